using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;

namespace Portal.Gateway.Responses;

/// <summary>
/// <c>POST /api/v1/responses</c>: reads the body as chat completions does (the same bounds, ADR 15),
/// puts a continued conversation before its input (<see cref="ResponseHistory"/>), translates it
/// (<see cref="ResponsesTranslator"/>) and runs it through <see cref="ChatGateway"/> into a
/// <see cref="ResponsesSink"/>, so it is validated, held, relayed, settled and recorded (with its front
/// door, <see cref="FrontDoor.Responses"/>) exactly like a chat completion. A body that cannot be
/// translated is refused through the gateway too, so it is recorded and counted like any refusal.
/// A finished Response is kept unless the client says <c>"store": false</c> (ADR 32), for
/// <c>GET</c> and <c>DELETE /api/v1/responses/{id}</c> and the next request's <c>previous_response_id</c>.
/// </summary>
public static class ResponsesApi
{
    public sealed record DeletedResponse(string Id, bool Deleted)
    {
        public string Object => "response.deleted";
    }

    public static async Task HandleAsync(HttpContext http, CurrentApiKey current, ChatBodyReader reader, ChatGateway gateway, ModelCatalog catalog, ResponseStore store, TimeProvider time)
    {
        var key = current.Key;
        var (body, lease) = await reader.ReadAsync(http.Request, key.UserId);
        using (lease)
        {
            var requestId = http.RequestId();
            var responseId = "resp_" + (requestId.StartsWith("req_", StringComparison.Ordinal) ? requestId[4..] : requestId);
            var continued = body is { Error: null, Json: JsonObject json }
                ? await ResponseHistory.PrepareAsync(json, body.Bytes, key.UserId, store, http.RequestAborted)
                : null;
            var translation = body.Error is not null ? ResponsesTranslation.Refused(body.Error)
                : continued is not null ? ResponsesTranslation.Refused(continued)
                : ResponsesTranslator.Translate(body.Json);
            var chat = translation.Error is { } refused
                ? new ChatBody(body.Json, refused, body.Bytes) // refused by the gateway: recorded with the model it named
                : new ChatBody(translation.Chat, null, body.Json?["previous_response_id"] is null ? body.Bytes : 0); // a continued one is measured anew

            var storing = translation.Store && store.Enabled;
            translation.Echo["store"] = storing;
            // The Response names the catalog's model, as chat completions replies do, from its first event on.
            var requested = translation.Chat?["model"] is JsonValue m && m.TryGetValue(out string? name) ? name : "";
            var model = (await catalog.CurrentAsync(http.RequestAborted)).Find(requested)?.Id ?? requested;
            var sink = new ResponsesSink(http.Response, responseId, time.GetUtcNow().ToUnixTimeSeconds(), model, translation.Echo);
            await gateway.RunAsync(FrontDoor.Responses, new Payer(key.UserId, key), chat, requestId, sink, http.RequestAborted);
            if (storing && sink.Final is { } final && body.Json?["input"] is JsonArray conversation)
            {
                await store.SaveAsync(key.UserId, responseId, conversation, final);
            }
        }
    }

    public static async Task<Results<ContentHttpResult, ApiErrorResult>> GetAsync(string id, CurrentApiKey current, ResponseStore store, CancellationToken cancellationToken) =>
        await store.FindAsync(current.Key.UserId, id, cancellationToken) is { } stored
            ? TypedResults.Content(stored.Response, "application/json; charset=utf-8")
            : NotFound(id).ToResult();

    public static async Task<Results<JsonHttpResult<DeletedResponse>, ApiErrorResult>> DeleteAsync(string id, CurrentApiKey current, ResponseStore store, CancellationToken cancellationToken) =>
        await store.DeleteAsync(current.Key.UserId, id, cancellationToken)
            ? TypedResults.Json(new DeletedResponse(id, true), Wire.Json)
            : NotFound(id).ToResult();

    private static ApiError NotFound(string id) =>
        new(404, "not_found", "invalid_request_error", $"There is no stored response '{ResponseStore.Shown(id)}' for this account: it was never stored (\"store\": false), was deleted, or is older than the days responses are kept.", "response_id");
}
