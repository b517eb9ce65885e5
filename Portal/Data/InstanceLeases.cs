using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Portal.Data;

/// <summary>
/// This process's lease in the store (ADR 20): made at start-up with a new id, renewed every
/// <see cref="StoreOptions.LeaseRenewSeconds"/> until the process ends. The gateway's credit holds
/// carry <see cref="Id"/>, so when the lease lapses (the process killed, its machine gone) another
/// instance knows whose holds no request will settle any more — and while it is renewed, none of this
/// process's holds is touched, however old. Times are the instances' own clocks: machines sharing a
/// store must keep them in step (NTP) to well within <see cref="StoreOptions.LeaseSeconds"/>.
/// </summary>
public sealed class InstanceLeases(
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<StoreOptions> store,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<InstanceLeases> logger) : BackgroundService
{
    public const int IdLength = 32;

    /// <summary>In the data folder: the id of the lease the folder's last process held, dead once a new process starts there.</summary>
    public const string FileName = "instance.lease";

    private volatile bool _registered;

    /// <summary>This process's lease id, on every hold it takes.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    private TimeSpan Length => TimeSpan.FromSeconds(store.Value.LeaseSeconds);

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// At start-up, before any hold: registers this process's lease, and deletes the leases known to be
    /// dead — the one this data folder's previous process held (instances never share a data folder,
    /// ADR 18), and on SQLite every other one (the folder's lock says no other process serves this file).
    /// Their holds are then settled by the start-up sweep.
    /// </summary>
    /// <returns>How many dead leases were deleted.</returns>
    public async Task<int> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var folder = StoreExtensions.DataFolderPath(store.Value, environment);
        var file = Path.Combine(folder, FileName);
        var previous = File.Exists(file) ? (await File.ReadAllTextAsync(file, cancellationToken)).Trim() : "";
        if (_registered)
        {
            await RenewAsync(cancellationToken); // a second start-up sweep of this process
        }
        else
        {
            await RegisterAsync(cancellationToken);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var dead = store.Value.Provider == StoreProvider.Sqlite
            ? await db.InstanceLeases.Where(l => l.Id != Id).ExecuteDeleteAsync(cancellationToken)
            : previous.Length == 0 || previous == Id ? 0 : await db.InstanceLeases.Where(l => l.Id == previous).ExecuteDeleteAsync(cancellationToken);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(file, Id, cancellationToken);
        if (dead > 0)
        {
            logger.LogWarning("{Count} leases of processes that are gone were ended at start-up; their credit holds are settled now", dead);
        }

        return dead;
    }

    /// <summary>Writes this process's lease, valid for <see cref="StoreOptions.LeaseSeconds"/> from now.</summary>
    public async Task RegisterAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = Now;
        db.InstanceLeases.Add(new InstanceLease
        {
            Id = Id,
            Host = $"{Environment.MachineName} pid {Environment.ProcessId}",
            ProcessId = Environment.ProcessId,
            StartedAt = now,
            RenewedAt = now,
            ExpiresAt = now + Length,
        });
        await db.SaveChangesAsync(cancellationToken);
        _registered = true;
    }

    /// <summary>
    /// Extends the lease. If it is gone, another instance took this one for dead (it could not renew for
    /// longer than the lease: the store away, the process paused) and settled its holds: said loudly,
    /// and the lease made again for the holds to come.
    /// </summary>
    public async Task RenewAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = Now;
        var renewed = await db.InstanceLeases.Where(l => l.Id == Id)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.RenewedAt, now).SetProperty(l => l.ExpiresAt, now + Length), cancellationToken);
        if (renewed == 0)
        {
            logger.LogCritical("This instance's lease {Lease} had lapsed and was ended by another instance, which settled the credit holds of the requests running here; their settlements will find them settled and charge nothing", Id);
            await RegisterAsync(cancellationToken);
        }
    }

    /// <summary>Whether another instance's lease has lapsed: a read of a table of a few rows, every renewal period.</summary>
    public async Task<bool> AnyLapsedAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = Now;
        return await db.InstanceLeases.AnyAsync(l => l.ExpiresAt < now && l.Id != Id, cancellationToken);
    }

    /// <summary>
    /// Ends the lapsed leases of other instances, each only if it is still lapsed as it is deleted: an
    /// instance that renewed in time keeps its lease, and its holds. The caller settles the holds of
    /// instances without a lease next.
    /// </summary>
    public async Task<int> EndLapsedAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = Now;
        var ended = await db.InstanceLeases.Where(l => l.ExpiresAt < now && l.Id != Id).ExecuteDeleteAsync(cancellationToken);
        if (ended > 0)
        {
            logger.LogWarning("{Count} instance leases lapsed (their processes stopped renewing them); their credit holds are settled now", ended);
        }

        return ended;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(store.Value.LeaseRenewSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!_registered)
            {
                continue; // the start-up sweep makes the lease; until then there is nothing to renew
            }

            try
            {
                await RenewAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Renewing this instance's lease failed; retrying in {Period} s", store.Value.LeaseRenewSeconds);
            }
        }
    }
}
