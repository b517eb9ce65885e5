using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.Admin;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Billing;
using Portal.Gateway.Simulation;
using Portal.Observability;
using Portal.Usage;

using Portal.Status;

namespace Portal.Gateway;

/// <summary>
/// The one path every chat completion takes, from the API or the playground: validate, reserve the
/// worst case, call the upstream, deliver the reply to the sink, settle to the real usage and record
/// it (SPEC §2–§3, ADR 3).
/// </summary>
public sealed class ChatGateway(
    ModelCatalog catalog,
    CreditsLedger ledger,
    ApiSwitch apiSwitch,
    SimulatedUpstream simulated,
    HttpUpstream http,
    TimeProvider time,
    CompletionDrain drain,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    ILogger<ChatGateway> logger)
{
    internal SimulatedUpstream Simulated => simulated;
    internal HttpUpstream Http => http;
    internal CreditsLedger Ledger => ledger;
    internal TimeProvider Time => time;
    internal GatewayOptions Options => options.Value;
    internal ILogger Logger => logger;
    internal GatewayMetrics Metrics => metrics;
    internal CancellationToken ShutdownGraceOver => drain.GraceOver;

    /// <param name="body">The request JSON, or null with <paramref name="parseError"/> saying why.</param>
    /// <param name="aborted">Fires when the client leaves or presses Stop: a stream's upstream call is
    /// cancelled and the request is charged for what was delivered; a non-streamed reply is finished and
    /// charged as the upstream reports it (ADR 8).</param>
    public async Task RunAsync(Payer payer, JsonNode? body, ApiError? parseError, string requestId, ICompletionSink sink, CancellationToken aborted)
    {
        var started = time.GetTimestamp();
        if (!drain.TryEnter())
        {
            await UnavailableAsync(sink, ApiError.ShuttingDown(), started);
            return;
        }

        try
        {
            await ServeAsync(payer, body, parseError, requestId, sink, started, aborted);
        }
        finally
        {
            drain.Exit();
        }
    }

    private async Task ServeAsync(Payer payer, JsonNode? body, ApiError? parseError, string requestId, ICompletionSink sink, long started, CancellationToken aborted)
    {
        if (!await apiSwitch.IsOnAsync(aborted))
        {
            await UnavailableAsync(sink, ApiError.Unavailable(), started);
            return;
        }

        var models = await catalog.CurrentAsync(aborted);
        var validated = parseError is null
            ? ChatRequestValidator.Validate(body, models.Find, options.Value.DefaultMaxTokens)
            : new ChatRequestValidator.Result(null, null, parseError);
        if (validated.Error is { } invalid)
        {
            await RefuseAsync(sink, payer, requestId, started, (body as JsonObject)?["model"]?.ToString(), validated.Model, invalid);
            return;
        }

        var (request, model) = (validated.Request!, validated.Model!);
        if (payer.Key is { } key && !key.MayUse(model.Id))
        {
            await RefuseAsync(sink, payer, requestId, started, model.Id, model, ApiError.Forbidden($"This API key may not use the model '{model.Id}'.", "model"));
            return;
        }

        var promptBound = TokenEstimator.PromptTokensUpperBound(request.Messages, ToolBytes(request));
        var hold = Money.Cost(promptBound, (long)request.MaxTokens * request.N, model.InputPriceMicros, model.OutputPriceMicros);
        var outcome = await ledger.TryHoldAsync(payer.UserId, payer.Key?.KeyId, requestId, hold);
        if (outcome != HoldOutcome.Held)
        {
            var error = outcome == HoldOutcome.KeySpendCapReached
                ? ApiError.InsufficientQuota($"This key's spend cap of {Money.Format(payer.Key!.SpendCapMicros ?? 0)} does not cover this request's worst case of {Money.Format(hold)}.")
                : ApiError.InsufficientQuota(await UnaffordableMessageAsync(payer, request, model, promptBound, hold));
            await RefuseAsync(sink, payer, requestId, started, model.Id, model, error);
            return;
        }

        metrics.HoldTaken();
        try
        {
            // A stream stops when its client leaves; any run stops when, on shutdown, the grace period is over.
            using var stop = request.Stream ? CancellationTokenSource.CreateLinkedTokenSource(aborted, drain.GraceOver) : null;
            await new CompletionRun(this, sink, payer, request, model, requestId, started, hold, aborted).ExecuteAsync(stop?.Token ?? drain.GraceOver);
        }
        finally
        {
            metrics.HoldSettled();
        }
    }

    private static long ToolBytes(ChatRequest request) =>
        request.Tools.Count == 0 ? 0 : System.Text.Encoding.UTF8.GetByteCount(request.Raw["tools"]?.ToJsonString() ?? "");

    private async Task<string> UnaffordableMessageAsync(Payer payer, ChatRequest request, ModelInfo model, long promptBound, long hold)
    {
        var balance = (await ledger.SummaryAsync(payer.UserId)).BalanceMicros;
        var promptCost = Money.Cost(promptBound, 0, model.InputPriceMicros, model.OutputPriceMicros);
        var perToken = Math.Max(1, model.OutputPriceMicros) * request.N;
        var affordable = balance <= promptCost ? 0 : (long)((Int128)(balance - promptCost) * 1_000_000 / perToken);
        var what = $"Your balance of {Money.Format(balance)} cannot cover this request's worst case of {Money.Format(hold)} (prompt plus max_tokens = {request.MaxTokens}{(request.N > 1 ? $" × n = {request.N}" : "")}).";
        return affordable >= 1
            ? $"{what} It affords max_tokens = {Math.Min(affordable, request.MaxTokens - 1)}; lower max_tokens or add credits."
            : $"{what} It does not cover the prompt itself; add credits.";
    }

    private async Task UnavailableAsync(ICompletionSink sink, ApiError error, long started)
    {
        metrics.Completed("unknown", error.Status, time.GetElapsedTime(started), null, 0, 0, 0);
        await sink.ErrorAsync(error);
    }

    /// <param name="model">What the client asked for, for its usage record.</param>
    /// <param name="known">The catalog model, if the request named one: metrics never carry client text.</param>
    private async Task RefuseAsync(ICompletionSink sink, Payer payer, string requestId, long started, string? model, ModelInfo? known, ApiError error)
    {
        await ledger.RecordAsync(new UsageRecord
        {
            RequestId = requestId,
            UserId = payer.UserId,
            ApiKeyId = payer.Key?.KeyId,
            ModelId = model is { Length: > 128 } ? model[..128] : model ?? "unknown",
            Status = error.Status,
            ErrorCode = error.Code,
            Provenance = Provenance.Reported,
            LatencyMs = (int)time.GetElapsedTime(started).TotalMilliseconds,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        });
        metrics.Completed(known?.Id ?? "unknown", error.Status, time.GetElapsedTime(started), null, 0, 0, 0);
        await sink.ErrorAsync(error);
    }
}
