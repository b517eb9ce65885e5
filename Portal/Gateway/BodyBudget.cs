using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Portal.Observability;

namespace Portal.Gateway;

/// <summary>
/// The bytes of large request bodies (over <see cref="ChatBodyReader.SmallBodyBytes"/>) that the
/// process holds at once, read or parsed, for as long as their requests run. Small bodies are always
/// read, so a flood of large ones makes only large ones wait (503 with Retry-After) — never the
/// every-day requests of other users (ADR 15).
/// </summary>
public sealed class BodyBudget
{
    private readonly IOptions<GatewayOptions> _options;
    private long _inUse;

    public BodyBudget(IOptions<GatewayOptions> options, IMeterFactory meters)
    {
        _options = options;
        meters.Create(GatewayMetrics.MeterName).CreateObservableGauge("portal.request_bodies.large_bytes", () => InUse, "By",
            "Bytes of request bodies over 64 KB held by running requests (ADR 15).");
    }

    public long InUse => Volatile.Read(ref _inUse);

    /// <summary>Takes <paramref name="bytes"/> more for <paramref name="lease"/> if they fit.</summary>
    public bool TryTake(Lease lease, long bytes)
    {
        var limit = _options.Value.MaxLargeBodyBytesInFlight;
        long held;
        do
        {
            held = Volatile.Read(ref _inUse);
            if (held + bytes > limit)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _inUse, held + bytes, held) != held);

        lease.Bytes += bytes;
        return true;
    }

    /// <summary>What one request holds of the budget, given back when it ends.</summary>
    public sealed class Lease(BodyBudget budget) : IDisposable
    {
        public long Bytes { get; internal set; }

        public void Dispose()
        {
            Interlocked.Add(ref budget._inUse, -Bytes);
            Bytes = 0;
        }
    }
}
