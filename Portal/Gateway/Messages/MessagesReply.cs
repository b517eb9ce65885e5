using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Messages;

/// <summary>
/// The pieces of an Anthropic reply made from the chat completion the gateway ran: the message, its
/// <c>stop_reason</c> and its <c>usage</c> (docs/messages lists the mapping).
/// </summary>
public static class MessagesReply
{
    /// <summary>Anthropic's <c>stop_reason</c> for a chat <c>finish_reason</c>. Chat completions does not say
    /// whether a stop sequence ended the reply, so <c>stop_sequence</c> is never reported: it is <c>end_turn</c>.</summary>
    public static string StopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>
    /// Portal's settled counts in Anthropic's terms: <c>input_tokens</c> are the prompt's uncached tokens,
    /// <c>cache_read_input_tokens</c> its cached ones (their sum is the prompt Portal billed), nothing is
    /// written to a cache.
    /// </summary>
    public static JsonObject Usage(ChatUsage? usage)
    {
        var prompt = usage?.PromptTokens ?? 0;
        var cached = Math.Clamp(usage?.PromptTokensDetails?.CachedTokens ?? 0, 0, Math.Max(prompt, 0));
        return new JsonObject
        {
            ["input_tokens"] = prompt - cached,
            ["output_tokens"] = usage?.CompletionTokens ?? 0,
            ["cache_creation_input_tokens"] = 0,
            ["cache_read_input_tokens"] = cached,
        };
    }

    /// <summary>The head of a message: what <c>message_start</c> carries, and a whole reply adds its content to.</summary>
    public static JsonObject Head(string id, string model) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = new JsonArray(),
        ["stop_reason"] = null,
        ["stop_sequence"] = null,
        ["usage"] = Usage(null),
    };

    /// <summary>A whole reply from a non-streamed chat completion's JSON (the first choice: Anthropic has no <c>n</c>).</summary>
    public static JsonObject Message(string id, string model, ReadOnlySpan<byte> completionJson)
    {
        var completion = JsonNode.Parse(completionJson) as JsonObject;
        var choice = (completion?["choices"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var message = choice?["message"] as JsonObject;
        var content = new JsonArray();
        if (Text(message?["reasoning_content"]) is { Length: > 0 } reasoning)
        {
            content.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = reasoning, ["signature"] = "" });
        }

        if (Text(message?["content"]) is { Length: > 0 } text)
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = text });
        }

        foreach (var call in (message?["tool_calls"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var function = call["function"] as JsonObject;
            content.Add(ToolUse(Text(call["id"]) ?? "", Text(function?["name"]) ?? "", Input(Text(function?["arguments"]))));
        }

        var usage = completion?["usage"]?.Deserialize<ChatUsage>(Wire.Json);
        var reply = Head(id, model);
        reply["content"] = content;
        reply["stop_reason"] = StopReason(Text(choice?["finish_reason"]));
        reply["usage"] = Usage(usage);
        return reply;
    }

    public static JsonObject ToolUse(string id, string name, JsonObject input) =>
        new() { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = input };

    /// <summary>A tool call's arguments as the object <c>input</c> is; arguments that are not a JSON object
    /// (a model's broken JSON) are kept, as text, under <c>_arguments</c>.</summary>
    public static JsonObject Input(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }

        try
        {
            if (JsonNode.Parse(arguments) is JsonObject input)
            {
                return input;
            }
        }
        catch (JsonException)
        {
            // kept as text below
        }

        return new JsonObject { ["_arguments"] = arguments };
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
