using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Credits;
using Portal.Gateway.Simulation;
using Portal.Usage;

namespace Portal.Gateway;

/// <summary>Who pays for a completion: a key's owner, or a signed-in user in the playground (no key).</summary>
public sealed record Payer(string UserId, ApiCaller? Key);

/// <summary>An upstream failed; <see cref="Error"/> is what the client is told (never upstream secrets).</summary>
public sealed class UpstreamException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}

public sealed record ChatServices(
    ModelCatalog Catalog,
    CreditsLedger Ledger,
    SimulatedUpstream Simulated,
    HttpUpstream Http,
    TimeProvider Time,
    IOptions<GatewayOptions> Options,
    ILogger<ChatServices> Logger);

/// <summary>
/// <c>POST /api/v1/chat/completions</c>: validate, reserve the worst case, call the upstream, relay or
/// assemble the reply, settle to the real usage, record it (SPEC §2–§3).
/// </summary>
public static class ChatCompletions
{
    public const long MaxBodyBytes = 8 * 1024 * 1024;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static async Task HandleAsync(HttpContext http, ChatServices services)
    {
        var payer = new Payer(http.Caller().UserId, http.Caller());
        var started = services.Time.GetTimestamp();
        var requestId = http.RequestId();

        var (root, parseError) = await ReadJsonAsync(http.Request);
        var catalog = await services.Catalog.CurrentAsync(http.RequestAborted);
        var validated = parseError is null
            ? ChatRequestValidator.Validate(root, catalog.Find, services.Options.Value.DefaultMaxTokens)
            : new ChatRequestValidator.Result(null, null, parseError);
        if (validated.Error is { } invalid)
        {
            await RefuseAsync(http, services, payer, requestId, started, (root as JsonObject)?["model"]?.ToString(), invalid);
            return;
        }

        var (request, model) = (validated.Request!, validated.Model!);
        if (payer.Key is { } key && !key.MayUse(model.Id))
        {
            await RefuseAsync(http, services, payer, requestId, started, model.Id,
                ApiError.Forbidden($"This API key may not use the model '{model.Id}'.", "model"));
            return;
        }

        var promptBound = TokenEstimator.PromptTokensUpperBound(request.Messages, ToolBytes(request));
        var hold = Money.Cost(promptBound, (long)request.MaxTokens * request.N, model.InputPriceMicros, model.OutputPriceMicros);
        var outcome = await services.Ledger.TryHoldAsync(payer.UserId, payer.Key?.KeyId, requestId, hold, http.RequestAborted);
        if (outcome != HoldOutcome.Held)
        {
            var error = outcome == HoldOutcome.KeySpendCapReached
                ? ApiError.InsufficientQuota($"This key's spend cap of {Money.Format(payer.Key!.SpendCapMicros ?? 0)} does not cover this request's worst case of {Money.Format(hold)}.")
                : ApiError.InsufficientQuota(await UnaffordableMessageAsync(services, payer, request, model, promptBound, hold));
            await RefuseAsync(http, services, payer, requestId, started, model.Id, error);
            return;
        }

        var run = new CompletionRun(http, services, payer, request, model, requestId, started, hold);
        await run.ExecuteAsync();
    }

    private static async Task<(JsonNode?, ApiError?)> ReadJsonAsync(HttpRequest request)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ApiError.UnsupportedMediaType());
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, ApiError.PayloadTooLarge(MaxBodyBytes));
        }

        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            if (buffer.Length > MaxBodyBytes)
            {
                return (null, ApiError.PayloadTooLarge(MaxBodyBytes));
            }

            return (JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), documentOptions: DocumentOptions), null);
        }
        catch (JsonException e)
        {
            return (null, ApiError.InvalidRequest($"The body is not valid JSON ({e.Message.Split(" Path:")[0]})."));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApiError.PayloadTooLarge(MaxBodyBytes));
        }
    }

    private static long ToolBytes(ChatRequest request) =>
        request.Tools.Count == 0 ? 0 : System.Text.Encoding.UTF8.GetByteCount(request.Raw["tools"]?.ToJsonString() ?? "");

    private static async Task<string> UnaffordableMessageAsync(ChatServices services, Payer payer, ChatRequest request, ModelInfo model, long promptBound, long hold)
    {
        var balance = (await services.Ledger.SummaryAsync(payer.UserId)).BalanceMicros;
        var promptCost = Money.Cost(promptBound, 0, model.InputPriceMicros, model.OutputPriceMicros);
        var perToken = Math.Max(1, model.OutputPriceMicros) * request.N;
        var affordable = balance <= promptCost ? 0 : (long)((Int128)(balance - promptCost) * 1_000_000 / perToken);
        var what = $"Your balance of {Money.Format(balance)} cannot cover this request's worst case of {Money.Format(hold)} (prompt plus max_tokens = {request.MaxTokens}{(request.N > 1 ? $" × n = {request.N}" : "")}).";
        return affordable >= 1
            ? $"{what} It affords max_tokens = {Math.Min(affordable, request.MaxTokens - 1)}; lower max_tokens or add credits."
            : $"{what} It does not cover the prompt itself; add credits.";
    }

    private static async Task RefuseAsync(HttpContext http, ChatServices services, Payer payer, string requestId, long started, string? model, ApiError error)
    {
        await services.Ledger.RecordAsync(new UsageRecord
        {
            RequestId = requestId,
            UserId = payer.UserId,
            ApiKeyId = payer.Key?.KeyId,
            ModelId = Truncate(model ?? "unknown", 128),
            Status = error.Status,
            ErrorCode = error.Code,
            Provenance = Provenance.Reported,
            LatencyMs = (int)services.Time.GetElapsedTime(started).TotalMilliseconds,
            CreatedAt = services.Time.GetUtcNow().UtcDateTime,
        });
        await error.WriteAsync(http.Response);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
