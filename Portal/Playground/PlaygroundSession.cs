using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Playground;

/// <summary>The playground's settings, as the request's JSON parameters.</summary>
public sealed class PlaygroundSettings
{
    public string Model { get; set; } = "glm-5";
    public string SystemPrompt { get; set; } = "";
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? MaxTokens { get; set; } = 1024;
    public bool Thinking { get; set; }
    public string? ReasoningEffort { get; set; }
    public ResponseFormatChoice ResponseFormat { get; set; }
    /// <summary>The <c>json_schema.name</c> sent with a schema.</summary>
    public string SchemaName { get; set; } = "reply";
    public string SchemaText { get; set; } = PlaygroundResponseFormat.ExampleSchema;
}

/// <summary>
/// The conversation and its settings, and the exact chat completions body they make — the same
/// body the API takes, so the playground goes through the gateway like any program (and "View code"
/// shows a request that really works).
/// </summary>
public sealed class PlaygroundSession
{
    public PlaygroundSettings Settings { get; } = new();
    public List<PlaygroundMessage> Messages { get; } = [];

    /// <summary>The body for <paramref name="model"/>: parameters it does not take are left out. Check <see cref="PlaygroundResponseFormat.Problem"/> first.</summary>
    public JsonObject BuildRequest(ModelInfo model)
    {
        var messages = new JsonArray();
        if (!string.IsNullOrWhiteSpace(Settings.SystemPrompt))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = Settings.SystemPrompt });
        }

        foreach (var message in Messages.Where(m => m.Error is null && (m.Role == "user" || m.HasContent)))
        {
            messages.Add(new JsonObject { ["role"] = message.Role, ["content"] = message.Content });
        }

        var body = new JsonObject { ["model"] = Settings.Model, ["messages"] = messages, ["stream"] = true };
        if (Settings.MaxTokens is { } maxTokens)
        {
            body["max_tokens"] = maxTokens;
        }

        if (Settings.Temperature is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (Settings.TopP is { } topP)
        {
            body["top_p"] = topP;
        }

        if (model.SupportsReasoning)
        {
            body["thinking"] = new JsonObject { ["type"] = Settings.Thinking ? "enabled" : "disabled" };
            if (Settings.Thinking && Settings.ReasoningEffort is { } effort)
            {
                body["reasoning_effort"] = effort;
            }
        }

        if (PlaygroundResponseFormat.Build(Settings, model) is { } format)
        {
            body["response_format"] = format;
        }

        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        return body;
    }

    /// <summary>Drops the message at <paramref name="index"/> and everything after it (editing a turn).</summary>
    public void TruncateFrom(int index) => Messages.RemoveRange(index, Messages.Count - index);

    public static string Pretty(JsonNode node) => node.ToJsonString(new JsonSerializerOptions(Wire.Json) { WriteIndented = true });
}
