using System.Text.Json.Nodes;

namespace Portal.Playground;

/// <summary>
/// The playground's request for Anthropic's Messages API (docs/messages): the same conversation and
/// settings as a Messages body, for curl and Anthropic's Python SDK. What Messages has no field for
/// (a response format, a reasoning effort, a temperature above 1) is left out.
/// </summary>
public static class AnthropicSamples
{
    /// <summary><c>max_tokens</c> is required by Messages: the playground's, or this.</summary>
    public const int DefaultMaxTokens = 1024;

    /// <summary>The smallest thinking budget Messages takes.</summary>
    private const int ThinkingBudget = 1024;

    public static JsonObject Body(JsonObject chat)
    {
        var system = new List<string>();
        var messages = new JsonArray();
        foreach (var message in chat["messages"]!.AsArray().OfType<JsonObject>())
        {
            var role = message["role"]!.GetValue<string>();
            var content = message["content"]?.GetValue<string>() ?? "";
            if (role == "system")
            {
                system.Add(content);
            }
            else
            {
                messages.Add(new JsonObject { ["role"] = role == "assistant" ? "assistant" : "user", ["content"] = content });
            }
        }

        var maxTokens = chat["max_tokens"] is JsonValue max && max.TryGetValue<int>(out var m) ? m : DefaultMaxTokens;
        var body = new JsonObject { ["model"] = chat["model"]!.DeepClone(), ["max_tokens"] = maxTokens };
        if (system.Count > 0)
        {
            body["system"] = string.Join("\n", system);
        }

        body["messages"] = messages;
        if (chat["temperature"] is JsonValue temperature && temperature.TryGetValue<double>(out var t) && t <= 1)
        {
            body["temperature"] = temperature.DeepClone();
        }

        if (chat["top_p"] is { } topP)
        {
            body["top_p"] = topP.DeepClone();
        }

        if (chat["thinking"]?["type"]?.GetValue<string>() == "enabled" && maxTokens > ThinkingBudget)
        {
            body["thinking"] = new JsonObject { ["type"] = "enabled", ["budget_tokens"] = ThinkingBudget };
        }

        body["stream"] = true;
        return body;
    }

    public static string Curl(JsonObject chat, string apiBase)
    {
        var json = PlaygroundSession.Pretty(Body(chat));
        return $"""
            curl {apiBase}/messages \
              -H "x-api-key: ${CodeSamples.KeyVariable}" \
              -H "anthropic-version: 2023-06-01" \
              -H "Content-Type: application/json" \
              -d '{json.Replace("'", "'\\''")}'
            """;
    }

    /// <param name="sdkBase">Portal's <c>/api</c>: the SDK adds <c>/v1/messages</c>.</param>
    public static string Python(JsonObject chat, string sdkBase)
    {
        var body = Body(chat);
        body.Remove("stream");
        var arguments = string.Concat(body.Select(p => $"    {p.Key}={CodeSamples.PythonLiteral(p.Value)},\n"));
        return $$"""
            import os
            import anthropic

            client = anthropic.Anthropic(base_url="{{sdkBase}}", api_key=os.environ["{{CodeSamples.KeyVariable}}"])
            with client.messages.stream(
            {{arguments}}) as stream:
                for text in stream.text_stream:
                    print(text, end="", flush=True)
            """;
    }
}
