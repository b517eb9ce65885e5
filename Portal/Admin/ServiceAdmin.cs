using Microsoft.EntityFrameworkCore;
using Portal.Data;

using Portal.Status;

using Portal.Billing;

namespace Portal.Admin;

public sealed record DayUsage(DateTime Day, int Requests, long SpendMicros);

/// <summary>The public API switch and service-wide usage, for the admin's service page.</summary>
public sealed class ServiceAdmin(ApiSwitch apiSwitch, IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const int UsageDays = 30;

    public async Task<bool> IsApiOnAsync(AdminCaller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return await apiSwitch.IsOnAsync(cancellationToken);
    }

    public async Task<EditResult> SetApiAsync(AdminCaller caller, bool on, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await apiSwitch.SetAsync(on, caller.Actor, cancellationToken);
        return EditResult.Success(on
            ? "The public API is on: /api/v1 serves requests again."
            : "The public API is off: every instance answers /api/v1 with 503 within a second.");
    }

    /// <summary>Requests and spend per UTC day over the last <see cref="UsageDays"/> days, all users, oldest first, no gaps.</summary>
    public async Task<IReadOnlyList<DayUsage>> UsageAsync(AdminCaller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var today = time.GetUtcNow().UtcDateTime.Date;
        var from = today.AddDays(1 - UsageDays);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var days = await db.UsageRecords.Where(r => r.CreatedAt >= from)
            .GroupBy(r => r.CreatedAt.Date)
            .Select(g => new { Day = g.Key, Requests = g.Count(), Spend = g.Sum(r => r.CostMicros) })
            .ToListAsync(cancellationToken);
        var byDay = days.ToDictionary(d => DateTime.SpecifyKind(d.Day, DateTimeKind.Utc).Date, d => (d.Requests, d.Spend));
        return Enumerable.Range(0, UsageDays)
            .Select(i => from.AddDays(i))
            .Select(day => byDay.TryGetValue(day, out var u) ? new DayUsage(day, u.Requests, u.Spend) : new DayUsage(day, 0, 0))
            .ToList();
    }
}
