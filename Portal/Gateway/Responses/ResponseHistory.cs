using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// <c>previous_response_id</c> (ADR 32): the stored conversation — the earlier input and the earlier
/// Response's output — put before this request's input, so the translator and the gateway see one whole
/// conversation, as when a client sends it all itself. <c>instructions</c> are not carried over, as in
/// OpenAI's API.
/// </summary>
public static class ResponseHistory
{
    /// <summary>
    /// Makes <c>input</c> an array of items (a string becomes one user message) and, for
    /// <c>previous_response_id</c>, puts the stored conversation before it; or says why it cannot.
    /// An <c>input</c> of another kind is left for the translator to refuse.
    /// </summary>
    public static async Task<ApiError?> PrepareAsync(JsonObject body, long bodyBytes, string userId, ResponseStore store, CancellationToken cancellationToken)
    {
        var input = body["input"] switch
        {
            JsonValue text when text.GetValueKind() == JsonValueKind.String =>
                new JsonArray(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text.GetValue<string>() }),
            JsonArray items => items,
            _ => null,
        };
        if (input is null)
        {
            return null;
        }

        body["input"] = input;
        switch (body["previous_response_id"])
        {
            case null:
                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var id = value.GetValue<string>();
                if (!store.Enabled)
                {
                    return new ApiError(400, "unsupported_parameter", "invalid_request_error",
                        "'previous_response_id' is not supported: this Portal keeps no responses (Responses:KeepDays is 0). Send the whole conversation in 'input'.", "previous_response_id");
                }

                if (await store.FindAsync(userId, id, cancellationToken) is not { } previous)
                {
                    return new ApiError(400, "previous_response_not_found", "invalid_request_error",
                        $"Previous response with id '{ResponseStore.Shown(id)}' not found: it was never stored (\"store\": false), was deleted, is older than the days responses are kept, or belongs to another account.", "previous_response_id");
                }

                if (previous.Bytes + bodyBytes > ChatBodyReader.MaxBodyBytes)
                {
                    return new ApiError(413, "request_too_large", "invalid_request_error",
                        $"The conversation up to '{previous.Id}' and this input come to more than {ChatBodyReader.MaxBodyBytes / (1024 * 1024)} MB, the most one request may be. Start a new conversation, with a summary of this one in 'input'.", "previous_response_id");
                }

                var conversation = JsonNode.Parse(previous.Input)!.AsArray();
                var output = JsonNode.Parse(previous.Response)!["output"] as JsonArray ?? [];
                foreach (var item in Detach(output).Concat(Detach(input)))
                {
                    conversation.Add(item);
                }

                body["input"] = conversation;
                return null;
            default:
                return ApiError.InvalidRequest("'previous_response_id' must be a string: the id of an earlier Response.", "previous_response_id");
        }
    }

    /// <summary>The items, taken out of their array so they can go into another.</summary>
    private static List<JsonNode?> Detach(JsonArray items)
    {
        var list = items.ToList();
        items.Clear();
        return list;
    }
}
