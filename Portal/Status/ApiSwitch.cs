using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Data;

namespace Portal.Status;

/// <summary>
/// The public API switch (SPEC §6). Read at most once a second from the store, so flipping it on
/// any instance (or from the CLI) takes effect everywhere within a second.
/// </summary>
public sealed class ApiSwitch(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, AuditLog audit)
{
    private const string Key = "api.enabled";
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private volatile State? _state;

    public async ValueTask<bool> IsOnAsync(CancellationToken cancellationToken = default)
    {
        var state = _state;
        var now = time.GetUtcNow();
        if (state is null || now - state.LoadedAt >= MaxAge)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var value = await db.Settings.Where(s => s.Key == Key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken);
            _state = state = new State(value != "false", now);
        }

        return state.On;
    }

    /// <summary>Flips the switch without an audit entry; admin actions use the overload that records one.</summary>
    public async Task SetAsync(bool on, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await WriteAsync(db, on, cancellationToken);
        _state = null;
    }

    /// <summary>Flips the switch and records who did it, in one transaction.</summary>
    public async Task SetAsync(bool on, AuditActor actor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var was = await db.Settings.Where(s => s.Key == Key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken) != "false";
        await WriteAsync(db, on, cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.ApiSwitch, "api", new { from = was ? "on" : "off", to = on ? "on" : "off" }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        _state = null;
    }

    private static async Task WriteAsync(PortalDbContext db, bool on, CancellationToken cancellationToken)
    {
        var value = on ? "true" : "false";
        if (await db.Settings.Where(s => s.Key == Key).ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, value), cancellationToken) == 0)
        {
            db.Settings.Add(new PortalSetting { Key = Key, Value = value });
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private sealed record State(bool On, DateTimeOffset LoadedAt);
}
