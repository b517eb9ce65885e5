using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Portal.Billing;

/// <summary>
/// Drains the <see cref="SettlementJournal"/> (ADR 18): every few seconds it writes the journaled
/// settlements that are due again, each with its own backoff. Settling is idempotent (the ledger's
/// unique release per request), so a retry of a settlement that did commit changes nothing. A store
/// that is down or busy is waited for as long as it takes; a settlement the store itself refuses (a
/// constraint, a value it will not take) <see cref="MaxRefusals"/> times is moved to the dead-letter
/// file instead of being retried forever.
/// </summary>
public sealed class SettlementRetry(SettlementJournal journal, LedgerWriter writer, TimeProvider time, ILogger<SettlementRetry> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Refusals by the store (not outages) after which a settlement is dead-lettered.</summary>
    public const int MaxRefusals = 5;

    private readonly SemaphoreSlim _draining = new(1, 1);
    // Per journaled request: failures so far, how many were refusals, when to try again.
    private readonly Dictionary<string, Attempts> _attempts = [];

    /// <summary>Writes the journaled settlements that are due (all of them when <paramref name="all"/>).</summary>
    /// <returns>How many committed.</returns>
    public async Task<int> DrainAsync(bool all = false, CancellationToken cancellationToken = default)
    {
        await _draining.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var due = journal.Pending
                .Where(e => all || !_attempts.TryGetValue(e.Settlement.RequestId, out var a) || a.Next <= now)
                .ToList();
            // Queued together: the writer commits them as one batch, or each alone if that fails.
            var tries = due.Select(entry => (entry, Task: writer.RetryAsync(entry))).ToList();
            var committed = new List<string>();
            foreach (var (entry, task) in tries)
            {
                var id = entry.Settlement.RequestId;
                try
                {
                    await task;
                    committed.Add(id);
                    _attempts.Remove(id);
                }
                catch (Exception e)
                {
                    var before = _attempts.GetValueOrDefault(id);
                    var failures = before.Failures + 1;
                    var refusals = before.Refusals + (IsRefusal(e) ? 1 : 0);
                    if (refusals >= MaxRefusals)
                    {
                        _attempts.Remove(id);
                        journal.DeadLetter(entry, e);
                        continue;
                    }

                    var backoff = Interval * Math.Pow(2, Math.Min(failures - 1, 10));
                    _attempts[id] = new Attempts(failures, refusals, now + (backoff < MaxBackoff ? backoff : MaxBackoff));
                    logger.LogWarning("The journaled settlement of request {RequestId} failed again ({Failures} times); retrying after {Next}", id, failures, _attempts[id].Next);
                }
            }

            journal.Forget(committed);
            if (committed.Count > 0)
            {
                logger.LogInformation("Wrote {Count} journaled settlements to the store", committed.Count);
            }

            return committed.Count;
        }
        finally
        {
            _draining.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await DrainAsync(cancellationToken: stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Draining the settlement journal failed; retrying in {Interval}", Interval);
            }
        }
    }

    /// <summary>The store answered and said no to the row itself, as opposed to being unreachable, busy or slow.</summary>
    private static bool IsRefusal(Exception error) => error switch
    {
        // SQLITE_CONSTRAINT (a trigger's RAISE too), SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE.
        SqliteException e => e.SqliteErrorCode is 18 or 19 or 20 or 25,
        // Class 22 (data exception) and 23 (integrity constraint violation).
        PostgresException e => e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal),
        DbException => false,
        _ => error.InnerException is { } inner && IsRefusal(inner),
    };

    private readonly record struct Attempts(int Failures, int Refusals, DateTimeOffset Next);
}
