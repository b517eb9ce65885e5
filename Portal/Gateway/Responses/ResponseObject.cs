using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// The Response object (<c>"object": "response"</c>) as Portal writes it, whole or in a stream's
/// <c>response.*</c> events: its id, status, model, output items and usage, and what it repeats of
/// the request (<see cref="ResponsesTranslation.Echo"/>).
/// </summary>
public static class ResponseObject
{
    public static JsonObject Build(string id, long createdAt, string model, JsonObject echo, string status,
        IEnumerable<JsonObject> output, JsonObject? usage = null, string? incompleteReason = null, ApiError? error = null)
    {
        var response = new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["background"] = false,
            ["error"] = error is null ? null : new JsonObject { ["code"] = error.Code, ["message"] = error.Message },
            ["incomplete_details"] = incompleteReason is null ? null : new JsonObject { ["reason"] = incompleteReason },
            ["model"] = model,
            ["output"] = new JsonArray([.. output]),
        };
        foreach (var (name, value) in echo)
        {
            response[name] = value?.DeepClone();
        }

        response["usage"] = usage;
        return response;
    }

    /// <summary>Portal's settled usage in the Responses API's names, with what Portal charged (<c>cost</c>, USD) as chat completions reports it.</summary>
    public static JsonObject Usage(ChatUsage usage)
    {
        var json = new JsonObject
        {
            ["input_tokens"] = usage.PromptTokens,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.PromptTokensDetails?.CachedTokens ?? 0 },
            ["output_tokens"] = usage.CompletionTokens,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.CompletionTokensDetails?.ReasoningTokens ?? 0 },
            ["total_tokens"] = usage.TotalTokens,
        };
        if (usage.Cost is { } cost)
        {
            json["cost"] = cost;
        }

        return json;
    }

    /// <summary>The Response's status and <c>incomplete_details.reason</c> for a chat completion's finish reason.</summary>
    public static (string Status, string? IncompleteReason) Outcome(string? finishReason) => finishReason switch
    {
        "length" => ("incomplete", "max_output_tokens"),
        "content_filter" or "sensitive" => ("incomplete", "content_filter"),
        _ => ("completed", null),
    };
}
