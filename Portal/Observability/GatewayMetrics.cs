using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portal.Observability;

/// <summary>
/// The gateway's instruments, in one place. Recorded where a request's outcome is final —
/// its settlement or its refusal — and where the upstream client retries; <c>/metrics</c> shows them
/// through OpenTelemetry (ADR 10). Every tag value is bounded: catalog model ids, HTTP statuses and
/// error codes, never anything a client typed.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Portal.Gateway";

    /// <summary>
    /// Bucket bounds for durations, in seconds: from a fast first token to a long stream. Given as the
    /// histograms' advice, so every exporter uses them (the series in <c>/metrics</c> depend on them).
    /// </summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new() { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] };

    // Statuses as tag strings, made once: a tag value per request must not allocate.
    private static readonly string[] StatusTexts = Enumerable.Range(100, 500).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _credits;
    private readonly Counter<long> _shortfall;
    private readonly Counter<long> _upstreamErrors;
    private readonly Counter<long> _upstreamRetries;
    private readonly Counter<long> _settlementsJournaled;
    private readonly Counter<long> _settlementsDead;
    private long _holdsOutstanding;

    public GatewayMetrics(IMeterFactory meters)
    {
        // Created through the factory: each host (and each test's host) has its own meter.
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("portal.requests", description: "Chat completion requests by model and final HTTP status (499: the client left).");
        _latency = meter.CreateHistogram("portal.request.duration", "s", "Chat completion time from arrival to settlement.", advice: SecondsBuckets);
        _timeToFirstToken = meter.CreateHistogram("portal.time_to_first_token", "s", "Time from arrival to the first output token.", advice: SecondsBuckets);
        _tokens = meter.CreateCounter<long>("portal.tokens", description: "Tokens billed, by model and type (prompt or completion).");
        _credits = meter.CreateCounter<long>("portal.credits.charged_microdollars", description: "Credits charged, in micro-dollars (1 USD = 1,000,000).");
        _shortfall = meter.CreateCounter<long>("portal.credits.shortfall_microdollars", description: "Cost upstreams reported beyond a request's hold that the balance or the key's spend cap could not cover, in micro-dollars (ADR 13).");
        _upstreamErrors = meter.CreateCounter<long>("portal.upstream.errors", description: "Failed upstream attempts, by model and error code.");
        _upstreamRetries = meter.CreateCounter<long>("portal.upstream.retries", description: "Upstream attempts after the first, by model.");
        _settlementsJournaled = meter.CreateCounter<long>("portal.settlements.journaled", description: "Settlements whose write to the store failed and were kept in the settlement journal for retry.");
        _settlementsDead = meter.CreateCounter<long>("portal.settlements.dead", description: "Journaled settlements the store kept refusing, moved to the dead-letter file; each leaves a hold for an operator.");
        meter.CreateObservableGauge("portal.holds.outstanding", () => Volatile.Read(ref _holdsOutstanding),
            description: "Credit holds of requests still running on this instance.");
    }

    public static string Status(int status) => status is >= 100 and < 600 ? StatusTexts[status - 100] : "other";

    /// <summary>A request that ended: settled (tokens and cost) or refused (all zero).</summary>
    public void Completed(string model, int status, TimeSpan latency, TimeSpan? timeToFirstToken, int promptTokens, int completionTokens, long chargedMicros)
    {
        var byModel = new TagList { { "model", model } };
        _requests.Add(1, new TagList { { "model", model }, { "status", Status(status) } });
        _latency.Record(latency.TotalSeconds, byModel);
        if (timeToFirstToken is { } first)
        {
            _timeToFirstToken.Record(first.TotalSeconds, byModel);
        }

        if (promptTokens > 0)
        {
            _tokens.Add(promptTokens, new TagList { { "model", model }, { "type", "prompt" } });
        }

        if (completionTokens > 0)
        {
            _tokens.Add(completionTokens, new TagList { { "model", model }, { "type", "completion" } });
        }

        if (chargedMicros > 0)
        {
            _credits.Add(chargedMicros, byModel);
        }
    }

    public void UpstreamFailed(string model, string code) =>
        _upstreamErrors.Add(1, new TagList { { "model", model }, { "code", code } });

    /// <summary>A settlement that could not charge all of its cost (ADR 13).</summary>
    public void ChargeShortfall(string model, long micros) => _shortfall.Add(micros, new TagList { { "model", model } });

    public void UpstreamRetried(string model) => _upstreamRetries.Add(1, new TagList { { "model", model } });

    public void SettlementJournaled() => _settlementsJournaled.Add(1);

    public void SettlementDead() => _settlementsDead.Add(1);

    public void HoldTaken() => Interlocked.Increment(ref _holdsOutstanding);

    public void HoldSettled() => Interlocked.Decrement(ref _holdsOutstanding);
}
