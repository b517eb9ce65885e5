namespace Portal.Tests;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing is not available here).
/// Wall-clock time and timestamps are controlled; timers run on the system clock unless
/// <see cref="TimersFollowClock"/> is set before the app starts, when they fire as the test advances it.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    /// <summary>A fixed, recognisable instant, so tests can assert on printed times.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 11, 22, 9, 30, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private DateTimeOffset _now = start;
    private readonly List<ManualTimer> _timers = [];

    /// <summary>Timers (periodic sweeps, deadlines, <c>Task.Delay</c> with this clock) fire when <see cref="Advance"/> passes them.</summary>
    public bool TimersFollowClock { get; set; }

    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    // Timestamps follow the manual clock too, so rate limits refill only when the test says so.
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

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

        // Each due timer fires once per call, however many periods were skipped: as a busy system's would.
        while (TakeDue() is { } timer)
        {
            timer.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (!TimersFollowClock)
        {
            return base.CreateTimer(callback, state, dueTime, period);
        }

        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private ManualTimer? TakeDue()
    {
        lock (_gate)
        {
            var due = _timers.Where(t => t.Due <= _now && !t.FiredAt(_now)).OrderBy(t => t.Due).FirstOrDefault();
            if (due is null)
            {
                return null;
            }

            due.Fired = _now;
            if (due.Period is { } period)
            {
                while (due.Due <= _now)
                {
                    due.Due += period;
                }
            }
            else
            {
                _timers.Remove(due);
            }

            return due;
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset Due { get; set; }

        public TimeSpan? Period { get; private set; }

        public DateTimeOffset? Fired { get; set; }

        public bool FiredAt(DateTimeOffset now) => Fired == now;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    Due = clock._now + dueTime;
                    Fired = null;
                    clock._timers.Add(this);
                }
            }

            return true;
        }

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
