using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Portal.Billing;

namespace Portal.Gateway;

/// <summary>
/// Writes the usage records of refused requests in bounded volume, and says when an account has been
/// refused so often that its requests should be turned away before any store work. Counting is per
/// account in fixed UTC minutes, in memory: each instance counts its own share (on PostgreSQL with
/// several instances, an account may get that many refusals recorded and allowed per instance).
/// <list type="bullet">
/// <item>The first <see cref="GatewayOptions.RecordedRefusalsPerMinute"/> refusals of an account in a
/// minute get a usage record each, as every request does.</item>
/// <item>Past that, alike refusals (same API, key, model, status and error code) are counted together and
/// written as one record per minute whose <see cref="UsageRecord.Requests"/> says how many they were,
/// once the minute is over (a sweep every few seconds) and on shutdown.</item>
/// <item>From <see cref="GatewayOptions.RefusalsPerMinute"/> refusals on, <see cref="Throttled"/> says
/// how long until the account's next minute.</item>
/// </list>
/// A refused request costs at most one usage record either way; with the aggregation a flood of them
/// costs one per kind and minute instead of one each (ADR 17).
/// </summary>
public sealed class RefusalLog : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    /// <summary>Aggregates of ended minutes, taken from accounts refused again since, waiting for the next flush.</summary>
    private readonly ConcurrentQueue<UsageRecord> _due = new();
    /// <summary>One flush at a time, so a flush that returns has waited for the writes of one running alongside.</summary>
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly LedgerWriter _ledger;
    private readonly TimeProvider _time;
    private readonly GatewayOptions _options;
    private readonly ILogger<RefusalLog> _logger;
    private readonly ITimer _sweep;
    private volatile bool _disposed;

    public RefusalLog(LedgerWriter ledger, TimeProvider time, IOptions<GatewayOptions> options, ILogger<RefusalLog> logger)
    {
        _ledger = ledger;
        _time = time;
        _options = options.Value;
        _logger = logger;
        // Accounts that go quiet still get their last minute written, soon after it ends.
        _sweep = time.CreateTimer(_ => _ = SweepAsync(), null, SweepEvery, SweepEvery);
    }

    /// <summary>Null while the account may be served; otherwise how long until its refusals count afresh.</summary>
    public TimeSpan? Throttled(string userId)
    {
        var now = _time.GetUtcNow();
        var minute = MinuteOf(now);
        if (!_accounts.TryGetValue(userId, out var account))
        {
            return null;
        }

        lock (account)
        {
            return account.Minute == minute && account.Refusals >= _options.RefusalsPerMinute
                ? TimeSpan.FromTicks((minute + 1) * TimeSpan.TicksPerMinute - now.UtcTicks)
                : null;
        }
    }

    /// <summary>
    /// Records a refused request: written with the ledger's next batch while the account is within its
    /// allowance (the task completes once it is committed), otherwise counted in memory (completed at once).
    /// </summary>
    public Task RecordAsync(UsageRecord refused)
    {
        if (_disposed)
        {
            return _ledger.RecordAsync(refused);
        }

        var minute = MinuteOf(_time.GetUtcNow());
        while (true)
        {
            var account = _accounts.GetOrAdd(refused.UserId, static (_, minute) => new Account(minute), minute);
            lock (account)
            {
                if (account.Closed)
                {
                    continue; // swept out while this request looked it up: a fresh one counts from here
                }

                if (account.Minute != minute)
                {
                    foreach (var ended in account.TakeAggregates())
                    {
                        _due.Enqueue(ended);
                    }

                    account.Minute = minute;
                    account.Refusals = 0;
                }

                account.Refusals++;
                if (account.Refusals <= _options.RecordedRefusalsPerMinute)
                {
                    return _ledger.RecordAsync(refused);
                }

                account.Add(refused);
                return Task.CompletedTask;
            }
        }
    }

    /// <summary>
    /// Writes the counted refusals of every minute that has ended (with <paramref name="all"/>, of the
    /// current one too) and waits until they are committed; forgets accounts whose minute has ended.
    /// </summary>
    public async Task FlushAsync(bool all = false)
    {
        await _flushing.WaitAsync();
        try
        {
            var minute = MinuteOf(_time.GetUtcNow());
            var records = new List<UsageRecord>();
            foreach (var (userId, account) in _accounts)
            {
                lock (account)
                {
                    if (!all && account.Minute >= minute)
                    {
                        continue;
                    }

                    records.AddRange(account.TakeAggregates());
                    account.Closed = true;
                }

                _accounts.TryRemove(new KeyValuePair<string, Account>(userId, account));
            }

            while (_due.TryDequeue(out var due))
            {
                records.Add(due);
            }

            await Task.WhenAll(records.Select(_ledger.RecordAsync));
        }
        finally
        {
            _flushing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        // From here refusals are written one by one; then what was counted is written, before the
        // ledger writer (created before this, so disposed after it) closes.
        _disposed = true;
        await _sweep.DisposeAsync();
        try
        {
            await FlushAsync(all: true);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Writing the counted refusals on shutdown failed");
        }
    }

    // The container disposes synchronously when a host is disposed without await (tests do).
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task SweepAsync()
    {
        try
        {
            await FlushAsync();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Writing counted refusals failed");
        }
    }

    private static long MinuteOf(DateTimeOffset at) => at.UtcTicks / TimeSpan.TicksPerMinute;

    /// <summary>One account's refusals in its current minute; guarded by locking it.</summary>
    private sealed class Account(long minute)
    {
        private readonly Dictionary<(string Api, string? KeyId, string ModelId, int Status, string? ErrorCode), Aggregate> _aggregates = [];

        public long Minute { get; set; } = minute;
        public int Refusals { get; set; }
        /// <summary>Swept out of the table: whoever still holds it must look the account up again.</summary>
        public bool Closed { get; set; }

        public void Add(UsageRecord refused)
        {
            var kind = (refused.Api, refused.ApiKeyId, refused.ModelId, refused.Status, refused.ErrorCode);
            if (_aggregates.TryGetValue(kind, out var aggregate))
            {
                aggregate.Count++;
                aggregate.LatencySum += refused.LatencyMs;
            }
            else
            {
                _aggregates[kind] = new Aggregate(refused);
            }
        }

        /// <summary>The minute's aggregates as usage records (the first refusal's, standing for all), emptied.</summary>
        public List<UsageRecord> TakeAggregates()
        {
            var records = _aggregates.Values.Select(a =>
            {
                a.First.Requests = a.Count;
                a.First.LatencyMs = (int)(a.LatencySum / a.Count);
                return a.First;
            }).ToList();
            _aggregates.Clear();
            return records;
        }
    }

    private sealed class Aggregate(UsageRecord first)
    {
        public UsageRecord First { get; } = first;
        public int Count { get; set; } = 1;
        public long LatencySum { get; set; } = first.LatencyMs;
    }
}
