using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Data;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// Instance leases (ADR 20), on the test's clock, once per provider: a live instance's holds are never
/// touched whatever their age; once an instance stops renewing, its holds are settled by a live one —
/// at the progress they recorded in the store, exactly once however many instances sweep at once; a
/// restarted instance settles its previous process's holds at start-up; and an instance settles its own
/// holds that no request of it is running any more. Other instances are played in this process: a lease,
/// a ledger writer and a recovery of their own on the same store.
/// </summary>
public abstract class InstanceLeaseTests : StoreAppTest
{
    private const int LeaseSeconds = 30;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Store:LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Renewals by the app's own timer run on the real clock: rarely, so the test's clock decides.
        ["Store:LeaseRenewSeconds"] = "10",
        ["Gateway:StaleHoldSeconds"] = "600",
    };

    private InstanceLeases Lease => App.Services.GetRequiredService<InstanceLeases>();

    private StaleHoldRecovery Recovery => App.Services.GetRequiredService<StaleHoldRecovery>();

    [Fact]
    public virtual async Task ALiveInstancesHoldsAreNeverTouchedWhateverTheirAge()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        await using var other = await Instance.StartAsync(App);
        Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, account.KeyId, "req_here", 1_000));
        Assert.Equal(HoldOutcome.Held, await other.Writer.TryHoldAsync(account.UserId, account.KeyId, "req_there", 2_000));

        // A quarter of an hour, in steps shorter than a lease: both instances renew, each sweeps.
        for (var step = 0; step < 36; step++)
        {
            App.Time.Advance(TimeSpan.FromSeconds(LeaseSeconds - 5));
            await Lease.RenewAsync();
            await other.Lease.RenewAsync();
            await Recovery.SweepOnceAsync(new OrphanedHolds(UnownedBefore: App.Time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(600)), force: true);
            await other.Recovery.SweepOnceAsync(new OrphanedHolds(), force: true);
        }

        // Both holds are older than Gateway:StaleHoldSeconds, which released them before leases.
        Assert.Equal(3_000, (await App.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        Assert.False(await App.InStoreAsync(db => db.Ledger.AnyAsync(e => e.Kind == LedgerKind.Release)));
        Assert.Equal(2, await App.InStoreAsync(db => db.InstanceLeases.CountAsync()));
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task ALapsedInstancesHoldsAreSettledOnceAtTheProgressTheyRecorded()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        await using var dying = await Instance.StartAsync(App);
        await using var third = await Instance.StartAsync(App);
        Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, account.KeyId, "req_here", 1_000));
        Assert.Equal(HoldOutcome.Held, await dying.Writer.TryHoldAsync(account.UserId, account.KeyId, "req_streaming", 10_000));
        Assert.Equal(HoldOutcome.Held, await dying.Writer.TryHoldAsync(account.UserId, account.KeyId, "req_short", 5_000));
        await dying.Writer.RecordProgressAsync("req_streaming", 2_500, Delivered(account, "req_streaming"));

        // The dying instance stops renewing; before its lease runs out, nothing of it is touched.
        App.Time.Advance(TimeSpan.FromSeconds(LeaseSeconds - 5));
        await Task.WhenAll(Lease.RenewAsync(), third.Lease.RenewAsync());
        await Recovery.SweepOnceAsync(new OrphanedHolds(), force: true);
        Assert.Equal(16_000, (await App.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);

        // Past it, two live instances sweep at the same moment.
        App.Time.Advance(TimeSpan.FromSeconds(10));
        await Task.WhenAll(Lease.RenewAsync(), third.Lease.RenewAsync());
        await Task.WhenAll(
            Task.Run(() => Recovery.SweepOnceAsync(new OrphanedHolds(), force: true)),
            Task.Run(() => third.Recovery.SweepOnceAsync(new OrphanedHolds(), force: true)));

        // Once each: one release, one usage record (settling again would have failed on the ledger's unique index).
        Assert.Equal(["req_short", "req_streaming"], (await App.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Release).Select(e => e.RequestId).ToListAsync())).Order());
        var records = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.RequestId != "req_here").OrderBy(r => r.RequestId).ToListAsync());
        Assert.Equal([("req_short", 0L, "interrupted"), ("req_streaming", 2_500L, "interrupted")], records.Select(r => (r.RequestId, r.CostMicros, r.ErrorCode)));
        Assert.Equal((10, 20, "glm-5", Provenance.Partial), (records[1].PromptTokens, records[1].CompletionTokens, records[1].ModelId, records[1].Provenance));
        Assert.Equal(1, await App.InStoreAsync(db => db.Ledger.CountAsync(e => e.RequestId == "req_streaming" && e.Kind == LedgerKind.Charge)));
        Assert.Equal(1_000, (await App.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        Assert.Equal(Money.FromUsd(1m) - 1_000 - 2_500, await App.BalanceAsync(account.UserId));
        Assert.Equal(3_500, await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        Assert.False(await App.InStoreAsync(db => db.RequestProgress.AnyAsync()), "the settled request's progress was left behind");
        var leases = await App.InStoreAsync(db => db.InstanceLeases.Select(l => l.Id).ToListAsync());
        Assert.Equal(new[] { Lease.Id, third.Lease.Id }.Order(), leases.Order());
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task ARestartedInstanceSettlesItsPreviousProcesssHoldsAtStartUp()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, account.KeyId, "req_here", 1_000));
        await using var killed = await Instance.StartAsync(App);
        Assert.Equal(HoldOutcome.Held, await killed.Writer.TryHoldAsync(account.UserId, account.KeyId, "req_killed", 5_000));
        await File.WriteAllTextAsync(Path.Combine(App.DataFolder, InstanceLeases.FileName), killed.Lease.Id);

        // Killed a moment ago (its lease has not lapsed) and started again on the same data folder.
        await using var restarted = Instance.Create(App);
        await restarted.Recovery.SweepAsync();

        var released = await App.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Release).Select(e => e.RequestId).ToListAsync());
        // On PostgreSQL the other live instance keeps its hold; on SQLite the folder's lock says there is no other.
        Assert.Equal(OnPostgres ? ["req_killed"] : ["req_here", "req_killed"], released.Order());
        Assert.Equal(restarted.Lease.Id, await File.ReadAllTextAsync(Path.Combine(App.DataFolder, InstanceLeases.FileName)));
        Assert.False(await App.InStoreAsync(db => db.InstanceLeases.AnyAsync(l => l.Id == killed.Lease.Id)));
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task AHoldWhoseRequestGaveUpIsSettledByItsOwnInstanceAndNoOther()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, account.KeyId, "req_running", 1_000));
        // A hold that committed though its request was told it failed (the acknowledgement lost, ADR 6).
        await App.InStoreAsync(db => db.Database.ExecuteSqlRawAsync("""
            UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" - 700 WHERE "UserId" = {0};
            INSERT INTO "LedgerEntries" ("UserId", "Kind", "AmountMicros", "RequestId", "ApiKeyId", "CreatedAt", "InstanceId")
            VALUES ({0}, 'hold', -700, 'req_gave_up', NULL, {1}, {2});
            """, account.UserId, App.Time.GetUtcNow().UtcDateTime, Lease.Id));

        // Nothing says it is in doubt: no sweep touches it.
        await Recovery.SweepOnceAsync(new OrphanedHolds(), force: true);
        Assert.Equal(1_700, (await App.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);

        Writer.MarkHoldsInDoubt();
        Assert.True(Writer.TakeHoldsInDoubt());
        Assert.Equal(1, await Recovery.SweepOnceAsync(new OrphanedHolds(OwnInstance: Lease.Id), force: false));

        Assert.Equal(1_000, (await App.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_gave_up"));
        Assert.Equal(("interrupted", 0L), (record.ErrorCode, record.CostMicros));
        await App.AssertLedgerConsistentAsync();
    }

    private LedgerWriter Writer => App.Services.GetRequiredService<LedgerWriter>();

    private static UsageRecord Delivered(ApiAccount account, string requestId) => new()
    {
        RequestId = requestId,
        UserId = account.UserId,
        ApiKeyId = account.KeyId,
        ModelId = "glm-5",
        PromptTokens = 10,
        CompletionTokens = 20,
        Status = 200,
        ErrorCode = "interrupted",
        Provenance = Provenance.Partial,
        Stream = true,
    };

    /// <summary>Another Portal instance on the same store: its own lease, ledger writer and recovery.</summary>
    private sealed record Instance(InstanceLeases Lease, LedgerWriter Writer, StaleHoldRecovery Recovery) : IAsyncDisposable
    {
        public static Instance Create(PortalApplication app)
        {
            var lease = ActivatorUtilities.CreateInstance<InstanceLeases>(app.Services);
            var writer = ActivatorUtilities.CreateInstance<LedgerWriter>(app.Services, lease);
            return new Instance(lease, writer, ActivatorUtilities.CreateInstance<StaleHoldRecovery>(app.Services, lease, writer));
        }

        /// <summary>Running: its lease made, as a start-up makes it.</summary>
        public static async Task<Instance> StartAsync(PortalApplication app)
        {
            var instance = Create(app);
            await instance.Lease.RegisterAsync();
            return instance;
        }

        public ValueTask DisposeAsync() => Writer.DisposeAsync();
    }
}

public sealed class SqliteInstanceLeaseTests : InstanceLeaseTests
{
    protected override bool OnPostgres => false;
}

/// <summary>The same on a real PostgreSQL, where instances really share the store, each test in its own new database.</summary>
public sealed class PostgresInstanceLeaseTests : InstanceLeaseTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task ALiveInstancesHoldsAreNeverTouchedWhateverTheirAge() => base.ALiveInstancesHoldsAreNeverTouchedWhateverTheirAge();

    [PostgresFact]
    public override Task ALapsedInstancesHoldsAreSettledOnceAtTheProgressTheyRecorded() => base.ALapsedInstancesHoldsAreSettledOnceAtTheProgressTheyRecorded();

    [PostgresFact]
    public override Task ARestartedInstanceSettlesItsPreviousProcesssHoldsAtStartUp() => base.ARestartedInstanceSettlesItsPreviousProcesssHoldsAtStartUp();

    [PostgresFact]
    public override Task AHoldWhoseRequestGaveUpIsSettledByItsOwnInstanceAndNoOther() => base.AHoldWhoseRequestGaveUpIsSettledByItsOwnInstanceAndNoOther();
}
