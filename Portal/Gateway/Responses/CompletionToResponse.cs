using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// A non-streamed chat completion (as the gateway writes it, with Portal's settled usage) into the
/// Response object: its reasoning, text and function calls as output items.
/// </summary>
public static class CompletionToResponse
{
    public static JsonObject Convert(ReadOnlySpan<byte> completionJson, string responseId, long createdAt, string model, JsonObject echo)
    {
        var completion = JsonNode.Parse(completionJson)!.AsObject();
        var choice = completion["choices"] is JsonArray { Count: > 0 } choices ? choices[0] as JsonObject : null;
        var message = choice?["message"] as JsonObject;
        var output = new List<ResponseOutputItem>();
        var idBase = responseId["resp_".Length..];

        if ((Text(message?["reasoning_content"]) ?? Text(message?["reasoning"])) is { Length: > 0 } reasoning)
        {
            output.Add(Item(ResponseOutputItem.Reasoning, "rs", idBase, output.Count, reasoning));
        }

        if (Text(message?["content"]) is { Length: > 0 } text)
        {
            output.Add(Item(ResponseOutputItem.Message, "msg", idBase, output.Count, text));
        }

        if (message?["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls.OfType<JsonObject>())
            {
                var item = new ResponseOutputItem(ResponseOutputItem.FunctionCall, $"fc_{idBase}_{output.Count}", output.Count)
                {
                    CallId = Text(call["id"]) ?? $"call_{idBase}_{output.Count}",
                    Name = Text(call["function"]?["name"]) ?? "",
                };
                item.Text.Append(Text(call["function"]?["arguments"]));
                output.Add(item);
            }
        }

        var (status, reason) = ResponseObject.Outcome(Text(choice?["finish_reason"]));
        var usage = completion["usage"]?.Deserialize<ChatUsage>(Wire.Json);
        return ResponseObject.Build(responseId, createdAt, Text(completion["model"]) ?? model, echo, status,
            output.Select((item, i) => item.ToJson(status == "incomplete" && i == output.Count - 1 ? "incomplete" : "completed")),
            usage is null ? null : ResponseObject.Usage(usage), reason);
    }

    private static ResponseOutputItem Item(string kind, string prefix, string idBase, int index, string text)
    {
        var item = new ResponseOutputItem(kind, $"{prefix}_{idBase}_{index}", index);
        item.Text.Append(text);
        return item;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
