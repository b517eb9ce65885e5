using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Data;

namespace Portal.Status;

/// <summary>
/// The public API switch: an administrator turns the whole API off and on (every /api/v1 request
/// reads it). Read at most once a second from the store, so flipping it on any instance (or from the
/// CLI) takes effect everywhere within a second.
/// </summary>
public sealed class ApiSwitch(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, AuditLog audit)
{
    private const string Key = "api.enabled";
    private readonly StoreSnapshot<bool> _on = new(time, TimeSpan.FromSeconds(1), async cancellationToken =>
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await ReadAsync(db, cancellationToken);
    });

    public ValueTask<bool> IsOnAsync(CancellationToken cancellationToken = default) => _on.GetAsync(cancellationToken);

    /// <summary>Flips the switch without an audit entry; admin actions use the overload that records one.</summary>
    public async Task SetAsync(bool on, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await WriteAsync(db, on, cancellationToken);
        _on.Invalidate();
    }

    /// <summary>Flips the switch and records who did it, in one transaction.</summary>
    public async Task SetAsync(bool on, AuditActor actor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var was = await ReadAsync(db, cancellationToken);
        await WriteAsync(db, on, cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.ApiSwitch, "api", new { from = was ? "on" : "off", to = on ? "on" : "off" }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        _on.Invalidate();
    }

    private static async Task<bool> ReadAsync(PortalDbContext db, CancellationToken cancellationToken) =>
        await db.Settings.Where(s => s.Key == Key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken) != "false";

    private static async Task WriteAsync(PortalDbContext db, bool on, CancellationToken cancellationToken)
    {
        var value = on ? "true" : "false";
        if (await db.Settings.Where(s => s.Key == Key).ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, value), cancellationToken) == 0)
        {
            db.Settings.Add(new PortalSetting { Key = Key, Value = value });
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
