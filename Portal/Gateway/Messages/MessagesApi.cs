using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;

namespace Portal.Gateway.Messages;

/// <summary>
/// <c>POST /api/v1/messages</c> and <c>/messages/count_tokens</c>, Anthropic's Messages API: the body
/// is read as a chat request's is (same bounds), translated to chat completions and run by
/// <see cref="ChatGateway"/> — the same holds, settlement, records and upstreams — with a
/// <see cref="MessagesSink"/> answering in Anthropic's shapes (ADR 30).
/// </summary>
public static class MessagesApi
{
    /// <summary>Adds the routes to the <c>/api/v1</c> group, whose filters (switch, key, limits) they share.</summary>
    public static void MapMessages(this RouteGroupBuilder api)
    {
        // The server stops reading past the limit: a chunked body can't make Portal buffer more.
        api.MapPost("/messages", HandleAsync).WithMetadata(new RequestSizeLimitAttribute(ChatBodyReader.MaxBodyBytes + 1))
            .WithName("createMessage").WithTags("Messages").WithSummary("Anthropic's Messages API: a reply to a conversation, whole or streamed")
            .WithApiErrors(400, 402, 403, 404, 413, 415, 502, 504)
            .AddOpenApiOperationTransformer(MessagesOpenApi.DescribeMessagesAsync);
        api.MapPost("/messages/count_tokens", CountTokensAsync).WithMetadata(new RequestSizeLimitAttribute(ChatBodyReader.MaxBodyBytes + 1))
            .WithName("countMessageTokens").WithTags("Messages").WithSummary("The input tokens a Messages request would be billed for, by Portal's token rule; free")
            .WithApiErrors(400, 402, 403, 404, 413, 415)
            .AddOpenApiOperationTransformer(MessagesOpenApi.DescribeCountTokensAsync);
    }

    public static async Task HandleAsync(HttpContext http, CurrentApiKey current, ChatBodyReader reader, ChatGateway gateway)
    {
        var key = current.Key;
        var (body, lease) = await reader.ReadAsync(http.Request, key.AccountId);
        using (lease)
        {
            var requestId = http.RequestId();
            var chat = Translate(body);
            if (chat.Error is null && body.Json is JsonObject asSent)
            {
                // Kept for an upstream that speaks Messages itself (ADR 35); the translation serves the rest.
                chat = chat with { Native = new NativeMessages(asSent, body.Bytes, Header(http, "anthropic-version", 64) ?? NativeMessages.DefaultVersion, Header(http, "anthropic-beta", 1024)) };
            }

            var model = (body.Json as JsonObject)?["model"] is JsonValue name && name.TryGetValue<string>(out var sent) ? sent : "";
            var sink = new MessagesSink(http.Response, "msg_" + requestId, model);
            await gateway.RunAsync(FrontDoor.Messages, new Payer(key.AccountId, key), chat, requestId, sink, http.RequestAborted);
        }
    }

    /// <summary>
    /// The prompt tokens Portal would bill if no upstream reported usage (<see cref="TokenEstimator"/>), for
    /// the translated request; nothing is held or charged, no usage record is kept.
    /// </summary>
    public static async Task CountTokensAsync(HttpContext http, CurrentApiKey current, ChatBodyReader reader, ModelCatalog catalog, IOptions<GatewayOptions> options)
    {
        var key = current.Key;
        var (body, lease) = await reader.ReadAsync(http.Request, key.AccountId);
        using (lease)
        {
            if (body.Json is JsonObject json)
            {
                // count_tokens takes no max_tokens: any value above a thinking budget does (the validator caps it).
                json["max_tokens"] ??= int.MaxValue;
            }

            var chat = Translate(body);
            if (chat.Error is { } unreadable)
            {
                await MessagesErrors.WriteAsync(unreadable, http.Response);
                return;
            }

            var models = await catalog.CurrentAsync(http.RequestAborted);
            var validated = ChatRequestValidator.Validate(chat.Json, models.Find, options.Value.DefaultMaxTokens);
            if (validated.Error is { } invalid)
            {
                await MessagesErrors.WriteAsync(invalid, http.Response);
                return;
            }

            if (!key.MayUse(validated.Model!.Id))
            {
                await MessagesErrors.WriteAsync(ApiError.Forbidden($"This API key may not use the model '{validated.Model.Id}'.", "model"), http.Response);
                return;
            }

            await http.Response.WriteAsJsonAsync(new JsonObject { ["input_tokens"] = TokenEstimator.PromptTokens(validated.Request!.Messages) }, Wire.Json, http.RequestAborted);
        }
    }

    /// <summary>A header passed on to the provider: one value of printable ASCII within <paramref name="limit"/>, else none.</summary>
    private static string? Header(HttpContext http, string name, int limit) =>
        http.Request.Headers[name] is [{ Length: > 0 } value] && value.Length <= limit && value.All(c => c is >= ' ' and <= '~') ? value : null;

    /// <summary>The chat request for the gateway, or why the body is not a Messages request (refused and recorded there).</summary>
    private static ChatBody Translate(ChatBody body)
    {
        if (body.Error is not null)
        {
            return body;
        }

        var translated = MessagesTranslator.Translate(body.Json);
        // Bytes 0: the validator measures the translated body, which is what is forwarded and what the hold bounds (ADR 13).
        return translated.Error is { } error ? ChatBody.Unreadable(error) : new ChatBody(translated.Chat, null);
    }
}
