using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;

namespace Portal.Gateway.Responses;

/// <summary>
/// <c>POST /api/v1/responses</c>: reads the body as chat completions does (the same bounds, ADR 15),
/// translates it (<see cref="ResponsesTranslator"/>) and runs it through <see cref="ChatGateway"/> into a
/// <see cref="ResponsesSink"/>, so it is validated, held, relayed, settled and recorded (with its front
/// door, <see cref="FrontDoor.Responses"/>) exactly like a chat completion. A body that cannot be
/// translated is refused through the gateway too, so it is recorded and counted like any refusal.
/// </summary>
public static class ResponsesApi
{
    public static async Task HandleAsync(HttpContext http, CurrentApiKey current, ChatBodyReader reader, ChatGateway gateway, ModelCatalog catalog, TimeProvider time)
    {
        var key = current.Key;
        var (body, lease) = await reader.ReadAsync(http.Request, key.AccountId);
        using (lease)
        {
            var requestId = http.RequestId();
            var responseId = "resp_" + (requestId.StartsWith("req_", StringComparison.Ordinal) ? requestId[4..] : requestId);
            var translation = body.Error is null ? ResponsesTranslator.Translate(body.Json) : ResponsesTranslation.Refused(body.Error);
            var chat = translation.Error is { } refused
                ? new ChatBody(body.Json, refused, body.Bytes) // refused by the gateway: recorded with the model it named
                : new ChatBody(translation.Chat, null, body.Bytes);

            // The Response names the catalog's model, as chat completions replies do, from its first event on.
            var requested = translation.Chat?["model"] is System.Text.Json.Nodes.JsonValue m && m.TryGetValue(out string? name) ? name : "";
            var model = (await catalog.CurrentAsync(http.RequestAborted)).Find(requested)?.Id ?? requested;
            var sink = new ResponsesSink(http.Response, responseId, time.GetUtcNow().ToUnixTimeSeconds(), model, translation.Echo);
            await gateway.RunAsync(FrontDoor.Responses, new Payer(key.AccountId, key), chat, requestId, sink, http.RequestAborted);
        }
    }
}
