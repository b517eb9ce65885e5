using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.Billing;
using Portal.Catalog;
using Portal.Gateway.Simulation;
using Portal.Observability;
using Portal.RateLimits;
using Portal.Status;

namespace Portal.Gateway;

/// <summary>
/// The one path every chat completion takes, from the API or the playground: validate, reserve the
/// worst case, call the upstream, deliver the reply to the sink, settle to the real usage and record
/// it (ADR 3).
/// </summary>
public sealed class ChatGateway(
    ModelCatalog catalog,
    CreditHolds holds,
    TokenLimits tokenLimits,
    LedgerWriter ledger,
    RefusalLog refusals,
    ApiSwitch apiSwitch,
    SimulatedUpstream simulated,
    HttpUpstream http,
    TimeProvider time,
    CompletionDrain drain,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    ILogger<ChatGateway> logger)
{
    private readonly RunDependencies _run = new(simulated, http, ledger, tokenLimits, time, options.Value, logger, metrics, drain.GraceOver);

    /// <param name="body">The request JSON, or why it could not be read.</param>
    /// <param name="aborted">Fires when the client leaves or presses Stop: a stream's upstream call is
    /// cancelled and the request is charged for what was delivered; a non-streamed reply is finished and
    /// charged as the upstream reports it (ADR 8).</param>
    /// <param name="api">The API the request came in through (<see cref="FrontDoor"/>), for its usage record.</param>
    public async Task RunAsync(string api, Payer payer, ChatBody body, string requestId, ICompletionSink sink, CancellationToken aborted)
    {
        var started = time.GetTimestamp();
        if (!drain.TryEnter())
        {
            await UnavailableAsync(sink, ApiError.ShuttingDown(), started);
            return;
        }

        try
        {
            await ServeAsync(api, payer, body, requestId, sink, started, aborted);
        }
        finally
        {
            drain.Exit();
        }
    }

    private async Task ServeAsync(string api, Payer payer, ChatBody body, string requestId, ICompletionSink sink, long started, CancellationToken aborted)
    {
        // A keyed request came through /api/v1, whose route group has checked the switch already
        // (StatusExtensions.RequireApiSwitchOn); the playground's come straight here.
        if (payer.Key is null && !await apiSwitch.IsOnAsync(aborted))
        {
            await UnavailableAsync(sink, ApiError.Unavailable(), started);
            return;
        }

        var models = await catalog.CurrentAsync(aborted);
        var validated = body.Error is null
            ? ChatRequestValidator.Validate(body.Json, models.Find, options.Value.DefaultMaxTokens, body.Bytes)
            : new ChatRequestValidator.Result(null, null, body.Error);
        if (validated.Error is { } invalid)
        {
            await RefuseAsync(api, sink, payer, requestId, started, (body.Json as JsonObject)?["model"]?.ToString(), validated.Model, invalid);
            return;
        }

        var (request, model) = (validated.Request!, validated.Model!);
        if (body.Native is { } native)
        {
            // Forwarded as sent to an upstream that speaks Messages: the hold's prompt bound covers
            // whichever body is larger, the translation or the client's (ADR 13, ADR 35).
            request = request with { Native = native, BodyBytes = Math.Max(request.BodyBytes, native.Bytes) };
        }

        if (payer.Key is { } key && !key.MayUse(model.Id))
        {
            await RefuseAsync(api, sink, payer, requestId, started, model.Id, model, ApiError.Forbidden($"This API key may not use the model '{model.Id}'.", "model"));
            return;
        }

        // The key's tokens per minute first: a request refused here never touches the balance (ADR 33).
        TokenLease? tokens = null;
        if (payer.Key is { } limited)
        {
            var worstCase = TokenEstimator.PromptTokensUpperBound(request, model) + (long)request.MaxTokens * request.N;
            var taken = await tokenLimits.TakeAsync(limited, model, worstCase, request.MaxTokens, request.N);
            if (taken.Decision is { } decision)
            {
                sink.TokenLimit(decision);
            }

            if (taken.Refusal is { } tooMany)
            {
                await RefuseAsync(api, sink, payer, requestId, started, model.Id, model, tooMany);
                return;
            }

            tokens = taken.Lease;
        }

        HoldResult held;
        try
        {
            held = await holds.TryHoldAsync(payer, requestId, request, model);
        }
        catch when (tokens is not null)
        {
            tokenLimits.Settle(tokens, used: 0); // the store failed the hold: nothing ran
            throw;
        }

        if (held.Refusal is { } refusal)
        {
            if (tokens is not null)
            {
                tokenLimits.Settle(tokens, used: 0);
            }

            await RefuseAsync(api, sink, payer, requestId, started, model.Id, model, ApiError.InsufficientQuota(refusal));
            return;
        }

        metrics.HoldTaken();
        try
        {
            // A stream stops when its client leaves; any run stops when, on shutdown, the grace period is
            // over, and at its deadline, before the stale-hold sweep could take its hold (ADR 18).
            var left = options.Value.RequestDeadline - time.GetElapsedTime(started);
            using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
            using var stop = request.Stream
                ? CancellationTokenSource.CreateLinkedTokenSource(aborted, drain.GraceOver, deadline.Token)
                : CancellationTokenSource.CreateLinkedTokenSource(drain.GraceOver, deadline.Token);
            await new CompletionRun(_run, sink, api, payer, request, model, requestId, started, held.HoldMicros, held.BudgetPeriodStart, held.MemberBudgetPeriodStart, tokens, aborted, deadline.Token).ExecuteAsync(stop.Token);
        }
        finally
        {
            metrics.HoldSettled();
        }
    }

    private async Task UnavailableAsync(ICompletionSink sink, ApiError error, long started)
    {
        metrics.Completed("unknown", error.Status, time.GetElapsedTime(started), null, 0, 0, 0);
        await sink.ErrorAsync(error);
    }

    /// <param name="model">What the client asked for, for its usage record.</param>
    /// <param name="known">The catalog model, if the request named one: metrics never carry client text.</param>
    private async Task RefuseAsync(string api, ICompletionSink sink, Payer payer, string requestId, long started, string? model, ModelInfo? known, ApiError error)
    {
        await refusals.RecordAsync(UsageRecord.Refused(api, requestId, payer.UserId, payer.Key?.KeyId, model, error.Status, error.Code,
            time.GetUtcNow().UtcDateTime, latencyMs: (int)time.GetElapsedTime(started).TotalMilliseconds, memberId: payer.Key?.MemberId));
        metrics.Completed(known?.Id ?? "unknown", error.Status, time.GetElapsedTime(started), null, 0, 0, 0);
        await sink.ErrorAsync(error);
    }
}
