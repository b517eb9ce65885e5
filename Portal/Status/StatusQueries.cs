using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Portal.Catalog;
using Portal.Data;

using Portal.Billing;

namespace Portal.Status;

/// <summary>One model's traffic over one window.</summary>
/// <param name="Requests">Every request, whatever its outcome.</param>
/// <param name="Counted">Requests that count for availability: all but client errors (4xx, 499 included).</param>
/// <param name="Failures">Counted requests that failed because of Portal or the upstream (5xx, or a stream cut by an upstream error).</param>
/// <param name="MedianLatencyMs">p50 of the whole request's duration, successful requests only.</param>
/// <param name="MedianTimeToFirstTokenMs">p50 time to the first token, successful requests that have one.</param>
public sealed record WindowStats(int Requests, int Counted, int Failures, int? MedianLatencyMs, int? MedianTimeToFirstTokenMs)
{
    public static readonly WindowStats Empty = new(0, 0, 0, null, null);

    public bool NoTraffic => Requests == 0;

    /// <summary>The share of counted requests that did not fail; null when only client errors came in.</summary>
    public double? Availability => Counted == 0 ? null : (Counted - Failures) / (double)Counted;
}

public sealed record ModelStatus(string ModelId, bool Simulated, WindowStats LastHour, WindowStats LastDay);

/// <summary>The enabled models' numbers as they were at <paramref name="At"/> (UTC).</summary>
public sealed record StatusReport(DateTime At, IReadOnlyList<ModelStatus> Models);

/// <summary>
/// The public status page's numbers, from Portal's own usage records. Counts are grouped
/// in the database; each median is one indexed <c>ORDER BY … OFFSET n/2 LIMIT 1</c>, so no window
/// of records is ever loaded into memory.
/// </summary>
public sealed class StatusQueries
{
    public static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    public static readonly TimeSpan Day = TimeSpan.FromHours(24);

    /// <summary>
    /// The page is public and a report sorts a day of each model's records for its medians: however
    /// often it is asked for, an instance works one out at most this often.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private static readonly Expression<Func<UsageRecord, bool>> Succeeded = r => r.Status < 400 && r.ErrorCode == null;

    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly ModelCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly StoreSnapshot<StatusReport> _report;

    public StatusQueries(IDbContextFactory<PortalDbContext> dbFactory, ModelCatalog catalog, TimeProvider time)
    {
        (_dbFactory, _catalog, _time) = (dbFactory, catalog, time);
        _report = new(time, MaxAge, async cancellationToken => new StatusReport(time.GetUtcNow().UtcDateTime, await EnabledModelsAsync(cancellationToken)));
    }

    /// <summary>The last report, or a new one once it is <see cref="MaxAge"/> old (one at a time, however many ask).</summary>
    public Task<StatusReport> ReportAsync(CancellationToken cancellationToken = default) => _report.GetAsync(cancellationToken).AsTask();

    public async Task<IReadOnlyList<ModelStatus>> EnabledModelsAsync(CancellationToken cancellationToken = default)
    {
        var models = (await _catalog.AllAsync(cancellationToken)).Where(m => m.Enabled).ToList();
        var now = _time.GetUtcNow().UtcDateTime;
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = models.Select(m => m.Id).ToList();
        var hour = await WindowAsync(db, ids, now - Hour, cancellationToken);
        var day = await WindowAsync(db, ids, now - Day, cancellationToken);
        return models
            .Select(m => new ModelStatus(m.Id, m.IsSimulated, hour.GetValueOrDefault(m.Id, WindowStats.Empty), day.GetValueOrDefault(m.Id, WindowStats.Empty)))
            .ToList();
    }

    private static async Task<Dictionary<string, WindowStats>> WindowAsync(PortalDbContext db, List<string> modelIds, DateTime since, CancellationToken cancellationToken)
    {
        var counts = await db.UsageRecords
            .Where(r => modelIds.Contains(r.ModelId) && r.CreatedAt >= since)
            .GroupBy(r => r.ModelId)
            .Select(g => new
            {
                ModelId = g.Key,
                // A record may stand for several refused requests (UsageRecord.Requests).
                Requests = g.Sum(r => r.Requests),
                Counted = g.Sum(r => r.Status < 400 || r.Status >= 500 ? r.Requests : 0),
                Failures = g.Sum(r => r.Status >= 500 || (r.Status < 400 && r.ErrorCode != null) ? r.Requests : 0),
                Succeeded = g.Count(r => r.Status < 400 && r.ErrorCode == null),
                WithFirstToken = g.Count(r => r.Status < 400 && r.ErrorCode == null && r.TimeToFirstTokenMs != null),
            })
            .ToListAsync(cancellationToken);

        var stats = new Dictionary<string, WindowStats>();
        foreach (var c in counts)
        {
            var ok = db.UsageRecords.Where(r => r.ModelId == c.ModelId && r.CreatedAt >= since).Where(Succeeded);
            int? latency = c.Succeeded == 0 ? null
                : await ok.OrderBy(r => r.LatencyMs).Skip((c.Succeeded - 1) / 2).Select(r => (int?)r.LatencyMs).FirstOrDefaultAsync(cancellationToken);
            int? firstToken = c.WithFirstToken == 0 ? null
                : await ok.Where(r => r.TimeToFirstTokenMs != null).OrderBy(r => r.TimeToFirstTokenMs)
                    .Skip((c.WithFirstToken - 1) / 2).Select(r => r.TimeToFirstTokenMs).FirstOrDefaultAsync(cancellationToken);
            stats[c.ModelId] = new WindowStats(c.Requests, c.Counted, c.Failures, latency, firstToken);
        }

        return stats;
    }
}
