namespace Portal.Tests;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing is not available here).
/// Only wall-clock time is controlled; timers and timestamps still come from the system.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    /// <summary>A fixed, recognisable instant, so tests can assert on printed times.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 11, 22, 9, 30, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private DateTimeOffset _now = start;

    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate)
        {
            _now += by;
        }
    }
}
