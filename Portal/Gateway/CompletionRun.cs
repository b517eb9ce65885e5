using Portal.Billing;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway.Simulation;
using Portal.Observability;

namespace Portal.Gateway;

/// <summary>What every <see cref="CompletionRun"/> needs besides its request: the same for all, built once by <see cref="ChatGateway"/>.</summary>
/// <param name="ShutdownGraceOver">Fires when, on shutdown, running completions must stop and settle.</param>
internal sealed record RunDependencies(
    SimulatedUpstream Simulated,
    HttpUpstream Http,
    LedgerWriter Ledger,
    RateLimits.TokenLimits TokenLimits,
    TimeProvider Time,
    GatewayOptions Options,
    ILogger Logger,
    GatewayMetrics Metrics,
    CancellationToken ShutdownGraceOver);

/// <summary>
/// One held completion, from the upstream call to settlement. Whatever happens — success, client
/// gone, upstream failure — it ends in exactly one settlement of its hold (ADR 3). A non-streaming
/// run is not stopped by its client leaving: the upstream was asked for one reply, which it writes
/// (and bills) whole, so the run reads it and charges it as reported (ADR 8).
/// </summary>
internal sealed class CompletionRun(
    RunDependencies dependencies,
    ICompletionSink sink,
    string api,
    Payer payer,
    ChatRequest request,
    ModelInfo model,
    string requestId,
    long started,
    long hold,
    long budgetPeriodStart,
    long memberBudgetPeriodStart,
    RateLimits.TokenLease? tokens,
    CancellationToken clientGone,
    CancellationToken deadline)
{
    private readonly CompletionAccumulator _accumulator = new();
    private ReplyWriter _reply = null!; // made when the run starts, with its created time
    private int? _firstTokenMs;
    private string? _upstream; // the upstream that answered, or the last that failed
    // Part of the reply reached the client. Not the sink's Started: keep-alive comments start the
    // response too, yet a request that failed after them delivered nothing and pays nothing (ADR 3).
    private bool _delivered;
    // What the run's one settlement charged, once it has committed. A run that fails after settling
    // (the client leaves while the usage chunk or [DONE] is written) must not settle again or count
    // itself twice in the metrics; the (request, kind) index would only stop the second settlement.
    private long? _charged;
    // When the stream last recorded its progress in the store, and the latest report (ADR 20).
    private long? _progressAt;
    private Task? _progress;

    private string CompletionId => "chatcmpl-" + requestId;

    public async Task ExecuteAsync(CancellationToken aborted)
    {
        var created = dependencies.Time.GetUtcNow().ToUnixTimeSeconds();
        _reply = new ReplyWriter(CompletionId, created, model.Id, request.RequestId);
        var chunks = UpstreamAsync(created, aborted);
        try
        {
            if (request.Stream)
            {
                await StreamAsync(chunks, aborted);
            }
            else
            {
                await CompleteAsync(chunks, aborted);
            }
        }
        catch (Exception) when (aborted.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            // Past its deadline a request has hung (or dragged on) long enough: charge what was
            // delivered, tell the client why it stopped (ADR 18).
            dependencies.Logger.LogWarning("Request {RequestId} reached its deadline of {Deadline} and was stopped", requestId, dependencies.Options.RequestDeadline);
            if (_delivered)
            {
                await SettlePartialAsync(200, "request_timeout");
            }
            else
            {
                await SettleAsync(prompt: 0, completion: 0, Provenance.Reported, 504, "request_timeout", charge: false);
            }

            await TryTellAsync(ApiError.RequestTimeout(dependencies.Options.RequestDeadline));
        }
        catch (Exception) when (aborted.IsCancellationRequested && dependencies.ShutdownGraceOver.IsCancellationRequested)
        {
            // Portal is stopping and the grace period is over: charge what was delivered, tell the client.
            await SettlePartialAsync(_delivered ? 200 : 503, "server_shutdown");
            await TryTellAsync(ApiError.ShuttingDown());
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            // The client left (or pressed Stop): whatever the write or the upstream threw because of it.
            await SettlePartialAsync(499, "client_disconnected");
        }
        catch (IOException) when (sink.Started)
        {
            // The connection broke before the abort token said so.
            await SettlePartialAsync(499, "client_disconnected");
        }
        catch (UpstreamException e)
        {
            dependencies.Logger.LogWarning("Upstream failed for request {RequestId}: {Code}", requestId, e.Error.Code);
            if (_delivered)
            {
                await SettlePartialAsync(200, e.Error.Code);
            }
            else
            {
                await SettleAsync(prompt: 0, completion: 0, Provenance.Reported, e.Error.Status, e.Error.Code, charge: false);
            }

            await sink.ErrorAsync(e.Error);
        }
        catch (Exception e)
        {
            // Whatever broke, the hold must not outlive the request: settle what was delivered. If the
            // store is what broke (PostgreSQL restarting), the settlement waits in the journal (ADR 18);
            // only if the journal cannot keep it either does this fail, and the stale-hold sweep
            // settles the hold later.
            dependencies.Logger.LogError(e, "Request {RequestId} failed unexpectedly; settling what was delivered", requestId);
            var outage = StoreOutage.IsOutage(e);
            var error = outage ? ApiError.StoreUnavailable() : ApiError.Internal(requestId);
            try
            {
                if (outage && !_delivered)
                {
                    // Its answer says nothing was charged, as for an upstream that failed before any byte (ADR 3).
                    await SettleAsync(prompt: 0, completion: 0, Provenance.Reported, error.Status, error.Code, charge: false);
                }
                else
                {
                    await SettlePartialAsync(_delivered ? 200 : error.Status, error.Code);
                }
            }
            catch (Exception unsettled)
            {
                dependencies.Logger.LogError(unsettled, "Request {RequestId} could not be settled; its hold will be released as stale", requestId);
            }

            if (!sink.Started)
            {
                throw; // the API's error handler answers in the envelope: 503 for a store outage, else 500
            }

            // A stream has begun: end it with the error in the envelope, not with a cut connection.
            await TryTellAsync(error);
        }
    }

    private async Task TryTellAsync(ApiError error)
    {
        try
        {
            await sink.ErrorAsync(error);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client is gone too; the settlement stands.
        }
    }

    private IAsyncEnumerable<UpstreamChunk> UpstreamAsync(long created, CancellationToken cancellationToken) =>
        model.IsSimulated
            ? Made(dependencies.Simulated.StreamAsync(request, model, CompletionId, created, cancellationToken))
            : dependencies.Http.StreamAsync(request, model, upstream => _upstream = $"{upstream.Id}:{upstream.UpstreamModel}", cancellationToken);

    /// <summary>The simulated upstream's chunks, as the relay takes them: typed, with nothing else to pass on.</summary>
    private static async IAsyncEnumerable<UpstreamChunk> Made(IAsyncEnumerable<ChatChunk> chunks)
    {
        await foreach (var chunk in chunks)
        {
            yield return chunk;
        }
    }

    private async Task CompleteAsync(IAsyncEnumerable<UpstreamChunk> chunks, CancellationToken cancellationToken)
    {
        UpstreamChunk? whole = null; // the provider's reply, relayed as it wrote it; otherwise assembled from chunks
        await foreach (var chunk in chunks.WithCancellation(cancellationToken))
        {
            Observe(chunk);
            whole = chunk.Whole ? chunk : null;
        }

        var usage = await SettleFinishedAsync();
        if (clientGone.IsCancellationRequested)
        {
            return; // paid for, but nobody to give it to
        }

        try
        {
            if (whole?.Native is { } native)
            {
                await sink.NativeAsync(native, usage, cancellationToken); // the provider's reply in the client's API (ADR 35)
            }
            else
            {
                await sink.CompletionAsync(_reply.Completion(whole, _accumulator.Choices, usage, _accumulator.ReportedUsageJson), cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && clientGone.IsCancellationRequested)
        {
            // The client left while its reply was written: it is settled, there is nothing to undo.
        }
    }

    private async Task StreamAsync(IAsyncEnumerable<UpstreamChunk> chunks, CancellationToken cancellationToken)
    {
        var keepAlive = TimeSpan.FromSeconds(dependencies.Options.KeepAliveSeconds);
        Task? keepAliveTimer = null;
        await using var upstream = chunks.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            var next = upstream.MoveNextAsync();
            if (!next.IsCompleted)
            {
                // Upstream silent: comment lines keep proxies and clients from timing out. One timer
                // serves many chunks, so a fast stream doesn't pay for a timer per chunk.
                // Once the run is cancelled, the timer is done at once: wait for the upstream, which stops
                // for the same token, rather than spin (on the playground's circuit the upstream's next
                // step waits for this very thread).
                var pending = next.AsTask();
                while (!cancellationToken.IsCancellationRequested
                    && await Task.WhenAny(pending, keepAliveTimer ??= Task.Delay(keepAlive, dependencies.Time, cancellationToken)) != pending)
                {
                    keepAliveTimer = null;
                    await sink.KeepAliveAsync(cancellationToken);
                }

                next = new ValueTask<bool>(pending);
            }

            if (!await next)
            {
                break;
            }

            var chunk = upstream.Current;
            Observe(chunk);
            var facts = chunk.Facts;
            if (chunk.Native is { } native)
            {
                // An event in the client's own API (ADR 35): the sink relays it, and holds back the usage it
                // carries until Portal's settled usage follows.
                await sink.NativeAsync(native, null, cancellationToken);
            }
            else if (facts.Choices.Count == 0 && (facts.Usage is not null || chunk.Members is null))
            {
                continue; // the upstream's usage chunk; ours follows settlement
            }
            else
            {
                await sink.ChunkAsync(facts, _reply.Chunk(chunk), cancellationToken);
            }

            if (facts.Choices.Count > 0) // not a provider's note without choices (a prompt's filter results)
            {
                _accumulator.Delivered(facts);
                _delivered = true;
                RecordProgressIfDue();
            }
        }

        var usage = await SettleFinishedAsync();
        if (request.IncludeUsage)
        {
            await sink.ChunkAsync(new ChatChunk { Id = CompletionId, Created = 0, Model = model.Id, Usage = usage }, _reply.UsageChunk(usage, _accumulator.ReportedUsageJson), cancellationToken);
        }

        await sink.DoneAsync(cancellationToken);
    }

    private void Observe(UpstreamChunk chunk)
    {
        _accumulator.Add(chunk);
        // A non-streamed reply arrives whole: its first token's time is unknown.
        if (request.Stream && _firstTokenMs is null && _accumulator.AnyOutput)
        {
            _firstTokenMs = ElapsedMs();
        }
    }

    private async Task<ChatUsage> SettleFinishedAsync()
    {
        var reported = _accumulator.ReportedUsage;
        var prompt = reported?.PromptTokens ?? TokenEstimator.PromptTokens(request.Messages);
        var completion = reported?.CompletionTokens ?? _accumulator.ReceivedTokens();
        var provenance = reported is null ? Provenance.Estimated : Provenance.Reported;
        var charged = clientGone.IsCancellationRequested && !request.Stream
            ? await SettleAsync(prompt, completion, provenance, 499, "client_disconnected", charge: true)
            : await SettleAsync(prompt, completion, provenance, 200, null, charge: true);
        return new ChatUsage
        {
            PromptTokens = prompt,
            CompletionTokens = completion,
            TotalTokens = prompt + completion,
            PromptTokensDetails = reported?.PromptTokensDetails,
            CompletionTokensDetails = reported?.CompletionTokensDetails,
            Cost = Money.ToUsd(charged),
        };
    }

    /// <summary>The client left or the upstream broke mid-way: charge the prompt and what got through.</summary>
    private Task SettlePartialAsync(int status, string errorCode)
    {
        var completion = request.Stream ? _accumulator.DeliveredTokens : _accumulator.ReceivedTokens();
        var prompt = _accumulator.ReportedUsage?.PromptTokens ?? TokenEstimator.PromptTokens(request.Messages);
        return SettleAsync(prompt, completion, Provenance.Partial, status, errorCode, charge: true);
    }

    /// <summary>
    /// Every <see cref="GatewayOptions.ProgressSeconds"/> of a long stream: what it has delivered, in the
    /// store. If its instance dies before the stream settles, whichever instance settles its hold charges
    /// that instead of releasing it for nothing (ADR 20). One upsert per interval, committed with other
    /// requests' writes and not waited for; a stream shorter than that writes nothing.
    /// </summary>
    private void RecordProgressIfDue()
    {
        if (dependencies.Time.GetElapsedTime(_progressAt ?? started) < TimeSpan.FromSeconds(dependencies.Options.ProgressSeconds))
        {
            return;
        }

        _progressAt = dependencies.Time.GetTimestamp();
        var prompt = _accumulator.ReportedUsage?.PromptTokens ?? TokenEstimator.PromptTokens(request.Messages);
        var completion = _accumulator.DeliveredTokens;
        var record = Record(prompt, completion, Provenance.Partial, 200, "interrupted");
        var cost = Cost(prompt, completion);
        var previous = _progress;
        _progress = RecordProgressAsync(previous, cost, record);
    }

    /// <summary>One report after the other, so the newest is the one that stands.</summary>
    private async Task RecordProgressAsync(Task? previous, long cost, UsageRecord record)
    {
        if (previous is not null)
        {
            await previous;
        }

        try
        {
            await dependencies.Ledger.RecordProgressAsync(requestId, cost, record);
        }
        catch (Exception e)
        {
            // Evidence only: the stream goes on, and settles as usual.
            dependencies.Logger.LogWarning(e, "Could not record the progress of request {RequestId}", requestId);
        }
    }

    private async Task<long> SettleAsync(int prompt, int completion, string provenance, int status, string? errorCode, bool charge)
    {
        if (_charged is { } settled)
        {
            return settled;
        }

        if (tokens is not null)
        {
            // The key's tokens-per-minute bucket keeps what was used, the rest of the worst case goes back
            // (all of it when nothing is charged). Once, before the store is written: a settlement the
            // store refuses still used what it used.
            dependencies.TokenLimits.Settle(tokens, charge ? (long)prompt + completion : 0);
            tokens = null;
        }

        var cost = charge ? Cost(prompt, completion) : 0;
        var record = Record(prompt, completion, provenance, status, errorCode);
        if (_progress is { } progress)
        {
            await progress; // committed (or failed) first, so its row cannot outlive the settlement that deletes it
        }

        await dependencies.Ledger.SettleAsync(new Settlement(payer.UserId, payer.Key?.KeyId, requestId, hold, cost, ClearsProgress: _progress is not null, BudgetPeriodStart: budgetPeriodStart,
            MemberId: payer.Key?.MemberId, MemberBudgetPeriodStart: memberBudgetPeriodStart), record);
        _charged = record.CostMicros;

        dependencies.Metrics.Completed(model.Id, status, dependencies.Time.GetElapsedTime(started),
            _firstTokenMs is { } first ? TimeSpan.FromMilliseconds(first) : null, prompt, completion, record.CostMicros);
        return record.CostMicros;
    }

    private UsageRecord Record(int prompt, int completion, string provenance, int status, string? errorCode)
    {
        var details = _accumulator.ReportedUsage;
        return new UsageRecord
        {
            Api = api,
            RequestId = requestId,
            UserId = payer.UserId,
            MemberId = payer.Key?.MemberId,
            ApiKeyId = payer.Key?.KeyId,
            ModelId = model.Id,
            Upstream = model.IsSimulated ? "simulated" : _upstream,
            PromptTokens = prompt,
            CompletionTokens = completion,
            ReasoningTokens = details?.CompletionTokensDetails?.ReasoningTokens ?? 0,
            CachedTokens = CachedTokens(prompt),
            InputPriceMicros = model.InputPriceMicros,
            CachedInputPriceMicros = model.EffectiveCachedInputPriceMicros,
            OutputPriceMicros = model.OutputPriceMicros,
            EndUser = string.IsNullOrWhiteSpace(request.User) ? null : UsageRecord.ClientText(request.User, UsageRecord.EndUserMaxLength),
            Stream = request.Stream,
            LatencyMs = ElapsedMs(),
            TimeToFirstTokenMs = _firstTokenMs,
            Status = status,
            ErrorCode = errorCode,
            Provenance = provenance,
            CreatedAt = dependencies.Time.GetUtcNow().UtcDateTime,
        };
    }

    /// <summary>The cost at the model's prices, the prompt's cached tokens at the cached-input price (ADR 25).</summary>
    private long Cost(int prompt, int completion) => Money.Cost(prompt, CachedTokens(prompt), completion,
        model.InputPriceMicros, model.EffectiveCachedInputPriceMicros, model.OutputPriceMicros);

    /// <summary>The cached part of the prompt as the upstream reported it, kept within 0…prompt: it is billed, and an upstream can report anything.</summary>
    private int CachedTokens(int prompt) => Math.Clamp(_accumulator.ReportedUsage?.PromptTokensDetails?.CachedTokens ?? 0, 0, Math.Max(prompt, 0));

    private int ElapsedMs() => (int)dependencies.Time.GetElapsedTime(started).TotalMilliseconds;
}
