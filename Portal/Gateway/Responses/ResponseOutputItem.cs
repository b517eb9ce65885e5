using System.Text;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// One item of a Response's <c>output</c> as it is built from chat completions pieces: the model's
/// reasoning (<c>reasoning</c>, its text as a summary), its text (<c>message</c> with one
/// <c>output_text</c> part) or one function call (<c>function_call</c>).
/// </summary>
public sealed class ResponseOutputItem(string kind, string id, int index)
{
    public const string Reasoning = "reasoning";
    public const string Message = "message";
    public const string FunctionCall = "function_call";

    public string Kind { get; } = kind;
    public string Id { get; } = id;
    /// <summary>Its place in <c>output</c>.</summary>
    public int Index { get; } = index;
    public StringBuilder Text { get; } = new();
    public string CallId { get; init; } = "";
    public string Name { get; set; } = "";
    /// <summary>in_progress until the item is closed, then completed or incomplete.</summary>
    public string Status { get; set; } = "in_progress";

    /// <summary>The item as the Response lists it: <paramref name="status"/> is in_progress, completed or incomplete.</summary>
    public JsonObject ToJson(string status)
    {
        var text = Text.ToString();
        return Kind switch
        {
            Reasoning => new JsonObject
            {
                ["id"] = Id,
                ["type"] = "reasoning",
                ["summary"] = status == "in_progress" ? new JsonArray() : new JsonArray(SummaryPart(text)),
            },
            Message => new JsonObject
            {
                ["id"] = Id,
                ["type"] = "message",
                ["status"] = status,
                ["role"] = "assistant",
                ["content"] = status == "in_progress" ? new JsonArray() : new JsonArray(TextPart(text)),
            },
            _ => new JsonObject
            {
                ["id"] = Id,
                ["type"] = "function_call",
                ["status"] = status,
                ["arguments"] = status == "in_progress" ? "" : text,
                ["call_id"] = CallId,
                ["name"] = Name,
            },
        };
    }

    public static JsonObject TextPart(string text) => new() { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = text };

    public static JsonObject SummaryPart(string text) => new() { ["type"] = "summary_text", ["text"] = text };
}
