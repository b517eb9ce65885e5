using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Gateway;

using Portal.Billing;

namespace Portal.Playground;

/// <summary>One turn of the conversation as the playground shows it.</summary>
public sealed class PlaygroundMessage
{
    // Builders: a streamed reply grows by many small pieces.
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();

    public required string Role { get; init; }

    public string Content
    {
        get => _content.ToString();
        set => _content.Clear().Append(value);
    }

    public string Reasoning => _reasoning.ToString();
    public bool HasContent => _content.Length > 0;
    public bool HasReasoning => _reasoning.Length > 0;
    public List<string> ToolCalls { get; } = [];

    /// <summary>What the reply cost and used, from its usage record.</summary>
    public Portal.Billing.UsageRecord? Record { get; set; }
    public string? FinishReason { get; set; }
    public string? Error { get; set; }

    public void Append(ChatDelta delta)
    {
        _content.Append(delta.Content);
        _reasoning.Append(delta.ReasoningContent);
        foreach (var call in delta.ToolCalls ?? [])
        {
            if (call.Function?.Name is { } name)
            {
                ToolCalls.Add(name + "(");
            }

            if (ToolCalls.Count > 0 && call.Function?.Arguments is { } arguments)
            {
                ToolCalls[^1] += arguments;
            }
        }
    }
    public bool Streaming { get; set; }
    /// <summary>The reply was cut short by Stop.</summary>
    public bool Stopped { get; set; }
}

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
    public bool JsonMode { get; set; }
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

    public JsonObject BuildRequest(bool supportsReasoning)
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

        if (supportsReasoning)
        {
            body["thinking"] = new JsonObject { ["type"] = Settings.Thinking ? "enabled" : "disabled" };
            if (Settings.Thinking && Settings.ReasoningEffort is { } effort)
            {
                body["reasoning_effort"] = effort;
            }
        }

        if (Settings.JsonMode)
        {
            body["response_format"] = new JsonObject { ["type"] = "json_object" };
        }

        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        return body;
    }

    /// <summary>Drops the message at <paramref name="index"/> and everything after it (editing a turn).</summary>
    public void TruncateFrom(int index) => Messages.RemoveRange(index, Messages.Count - index);

    public static string Pretty(JsonNode node) => node.ToJsonString(new JsonSerializerOptions(Wire.Json) { WriteIndented = true });
}
