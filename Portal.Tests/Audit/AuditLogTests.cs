using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Data;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Audit;

/// <summary>The audit chain (ADR 4) on each store provider; the derived classes choose the store.</summary>
public abstract class AuditLogTests : StoreAppTest
{
    private AuditLog Log => App.Services.GetRequiredService<AuditLog>();

    /// <summary>Appends one entry in a transaction of its own, as an admin action would.</summary>
    private async Task<AuditEntry> AppendAsync(string target, AuditActor? actor = null) => await AppendAsync(target, AuditActions.ModelUpdate, actor);

    private async Task<AuditEntry> AppendAsync(string target, string action, AuditActor? actor = null)
    {
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        var entry = await Log.AppendAsync(db, actor ?? new AuditActor("admin-id", "root@example.test"), action, target,
            new { changed = new { inputUsdPer1M = new[] { "1.5", "2" } }, note = "ünïcode & <html> \"quoted\"" });
        await tx.CommitAsync();
        return entry;
    }

    [Fact]
    public virtual async Task EntriesFormAChainThatVerifiesAndRoundTripsExactly()
    {
        var first = await AppendAsync("model:a");
        App.Time.Advance(TimeSpan.FromTicks(1_234_567)); // a time with sub-microsecond ticks
        await AppendAsync("model:b", AuditActor.Cli);
        await AppendAsync("model:c");

        var entries = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).ToListAsync());

        Assert.Equal(AuditLog.Genesis, first.PrevHash);
        Assert.Equal([AuditLog.Genesis, entries[0].Hash, entries[1].Hash], entries.Select(e => e.PrevHash));
        Assert.All(entries, e => Assert.Equal(AuditLog.HashOf(e), e.Hash));
        Assert.Equal((null, "cli"), (entries[1].ActorId, entries[1].Actor));
        Assert.Equal(new AuditVerification(3, null, null), await Log.VerifyAsync());
    }

    [Fact]
    public virtual async Task AnEmptyLogVerifies()
    {
        Assert.Equal(new AuditVerification(0, null, null), await Log.VerifyAsync());
    }

    [Fact]
    public virtual async Task TamperingWithOneRowIsDetectedAtThatEntry()
    {
        for (var i = 0; i < 5; i++)
        {
            await AppendAsync($"model:{i}");
        }

        var victim = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Skip(2).Select(e => e.Id).FirstAsync());
        await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Id == victim)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Details, """{"changed":{"inputUsdPer1M":["1.5","0"]}}""")));

        var result = await Log.VerifyAsync();

        Assert.False(result.Ok);
        Assert.Equal(victim, result.BrokenAt);
        Assert.Equal(2, result.Checked);
        Assert.Contains("was changed after it was written", result.Problem);
    }

    [Fact]
    public virtual async Task RewritingAnEntryWithAFreshHashIsDetectedAtTheNextEntry()
    {
        for (var i = 0; i < 4; i++)
        {
            await AppendAsync($"model:{i}");
        }

        var entries = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).ToListAsync());
        var forged = entries[1];
        forged.Actor = "someone-else@example.test";
        var forgedHash = AuditLog.HashOf(forged);
        await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Id == forged.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Actor, forged.Actor).SetProperty(e => e.Hash, forgedHash)));

        var result = await Log.VerifyAsync();

        Assert.Equal(entries[2].Id, result.BrokenAt);
        Assert.Contains("does not follow the entry before it", result.Problem);
    }

    [Fact]
    public virtual async Task RemovingAnEntryIsDetectedAtTheOneAfterIt()
    {
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync($"model:{i}");
        }

        var ids = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync());
        await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Id == ids[0]).ExecuteDeleteAsync());

        Assert.Equal(ids[1], (await Log.VerifyAsync()).BrokenAt);
    }

    [Fact]
    public virtual async Task ConcurrentAppendsKeepOneChain()
    {
        _ = App.Services; // start the application once, before the race
        await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() => AppendAsync($"model:{i}"))));

        var entries = await App.InStoreAsync(db => db.AuditEntries.ToListAsync());
        Assert.Equal(24, entries.Count);
        Assert.Equal(24, entries.Select(e => e.PrevHash).Distinct().Count());
        Assert.Equal(new AuditVerification(24, null, null), await Log.VerifyAsync());
    }

    [Fact]
    public virtual async Task TheStoreRefusesASecondEntryAfterTheSameOne()
    {
        var tip = await AppendAsync("model:a");

        // What a writer that skipped the lock would try: follow the same entry as someone else.
        var fork = new AuditEntry
        {
            At = tip.At,
            Actor = "x",
            Action = AuditActions.ModelUpdate,
            Target = "model:fork",
            Details = "{}",
            PrevHash = tip.PrevHash,
            Hash = new string('f', 64),
        };

        await Assert.ThrowsAsync<DbUpdateException>(() => App.InStoreAsync(async db =>
        {
            db.AuditEntries.Add(fork);
            return await db.SaveChangesAsync();
        }));
        Assert.True((await Log.VerifyAsync()).Ok);
    }

    [Fact]
    public virtual async Task AnAppendOutsideATransactionIsRefused()
    {
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => Log.AppendAsync(db, AuditActor.Cli, AuditActions.ApiSwitch, "api", new { }));
        Assert.Equal(0, await db.AuditEntries.CountAsync());
    }

    [Fact]
    public virtual async Task PagesAreNewestFirst()
    {
        for (var i = 0; i < 5; i++)
        {
            await AppendAsync($"model:{i}");
        }

        var page = await Log.PageAsync(1, 2);

        Assert.Equal(5, page.Total);
        Assert.Equal(["model:3", "model:2"], page.Entries.Select(e => e.Target));
        Assert.Equal(["model:1", "model:2"], (await Log.PageAsync(1, 2, oldestFirst: true)).Entries.Select(e => e.Target));
    }

    [Fact]
    public virtual async Task PagesCanHoldOneActionOnly()
    {
        for (var i = 0; i < 5; i++)
        {
            await AppendAsync($"model:{i}", i % 2 == 0 ? AuditActions.ModelCreate : AuditActions.ModelUpdate);
        }

        var page = await Log.PageAsync(0, 10, AuditActions.ModelUpdate);

        Assert.Equal(2, page.Total);
        Assert.Equal(["model:3", "model:1"], page.Entries.Select(e => e.Target));
        Assert.Equal(0, (await Log.PageAsync(0, 10, AuditActions.RoleSet)).Total);
    }
}

public sealed class SqliteAuditLogTests : AuditLogTests
{
    protected override bool OnPostgres => false;
}

/// <summary>The same on PostgreSQL, where several instances may append at once (advisory lock + unique PrevHash).</summary>
public sealed class PostgresAuditLogTests : AuditLogTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task EntriesFormAChainThatVerifiesAndRoundTripsExactly() => base.EntriesFormAChainThatVerifiesAndRoundTripsExactly();

    [PostgresFact]
    public override Task AnEmptyLogVerifies() => base.AnEmptyLogVerifies();

    [PostgresFact]
    public override Task TamperingWithOneRowIsDetectedAtThatEntry() => base.TamperingWithOneRowIsDetectedAtThatEntry();

    [PostgresFact]
    public override Task RewritingAnEntryWithAFreshHashIsDetectedAtTheNextEntry() => base.RewritingAnEntryWithAFreshHashIsDetectedAtTheNextEntry();

    [PostgresFact]
    public override Task RemovingAnEntryIsDetectedAtTheOneAfterIt() => base.RemovingAnEntryIsDetectedAtTheOneAfterIt();

    [PostgresFact]
    public override Task ConcurrentAppendsKeepOneChain() => base.ConcurrentAppendsKeepOneChain();

    [PostgresFact]
    public override Task TheStoreRefusesASecondEntryAfterTheSameOne() => base.TheStoreRefusesASecondEntryAfterTheSameOne();

    [PostgresFact]
    public override Task AnAppendOutsideATransactionIsRefused() => base.AnAppendOutsideATransactionIsRefused();

    [PostgresFact]
    public override Task PagesAreNewestFirst() => base.PagesAreNewestFirst();

    [PostgresFact]
    public override Task PagesCanHoldOneActionOnly() => base.PagesCanHoldOneActionOnly();

    /// <summary>Two Portal instances sharing one database, appending at the same time.</summary>
    [PostgresFact]
    public async Task TwoInstancesAppendingAtOnceKeepOneChain()
    {
        await using var other = new PortalApplication(Database.StoreSettings());
        var instances = new[] { App, other };
        foreach (var instance in instances)
        {
            _ = instance.Services; // start (and migrate) one after the other, not racing
        }

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var app = instances[i % 2];
            await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
            await using var tx = await db.Database.BeginTransactionAsync();
            await app.Services.GetRequiredService<AuditLog>().AppendAsync(db, AuditActor.Cli, AuditActions.ApiSwitch, $"api:{i}", new { i });
            await tx.CommitAsync();
        })));

        Assert.Equal(new AuditVerification(20, null, null), await App.Services.GetRequiredService<AuditLog>().VerifyAsync());
    }
}
