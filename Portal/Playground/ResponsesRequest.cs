using System.Text.Json.Nodes;

namespace Portal.Playground;

/// <summary>
/// The playground's chat request as the same request to the Responses API, for its "view code" samples:
/// the messages as <c>input</c>, <c>max_tokens</c> as <c>max_output_tokens</c>, <c>reasoning_effort</c> as
/// <c>reasoning.effort</c>, <c>response_format</c> as <c>text.format</c>. <c>thinking</c> has no Responses
/// equivalent and is left out; the usage comes with <c>response.completed</c>, so <c>stream_options</c> is too.
/// </summary>
public static class ResponsesRequest
{
    public static JsonObject FromChat(JsonObject chat)
    {
        var request = new JsonObject { ["model"] = chat["model"]?.DeepClone() };
        request["input"] = new JsonArray([.. (chat["messages"] as JsonArray ?? []).Select(m => (JsonNode?)new JsonObject
        {
            ["role"] = m?["role"]?.DeepClone(),
            ["content"] = m?["content"]?.DeepClone(),
        })]);
        if (chat["max_tokens"] is { } maxTokens)
        {
            request["max_output_tokens"] = maxTokens.DeepClone();
        }

        foreach (var name in (string[])["temperature", "top_p"])
        {
            if (chat[name] is { } value)
            {
                request[name] = value.DeepClone();
            }
        }

        if (chat["reasoning_effort"] is { } effort)
        {
            request["reasoning"] = new JsonObject { ["effort"] = effort.DeepClone() };
        }

        if (chat["response_format"] is JsonObject format && format["type"]?.ToString() is "json_object" or "json_schema")
        {
            var text = new JsonObject { ["type"] = format["type"]!.DeepClone() };
            foreach (var (name, value) in format["json_schema"] as JsonObject ?? [])
            {
                text[name] = value?.DeepClone();
            }

            request["text"] = new JsonObject { ["format"] = text };
        }

        request["stream"] = chat["stream"]?.DeepClone() ?? false;
        return request;
    }
}
