using Portal.Tests.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// Holds that name no instance (made before instance leases, ADR 20), on a shared store: only old ones
/// are released, each exactly once, however many instances sweep at the same moment.
/// </summary>
public sealed class StaleHoldRecoveryTests : PostgresAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Gateway:StaleHoldSeconds"] = "600",
    };

    [PostgresFact]
    public async Task InstancesSweepingTogetherReleaseEachStaleHoldOnce()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        var ledger = App.Services.GetRequiredService<CreditsLedger>();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, $"req_dead_{i}", 1_000));
        }

        await WithoutInstanceAsync("req_dead_");
        App.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_live", 5_000));

        // Four instances' sweeps at once: this one's and three more on the same store.
        var sweepers = Enumerable.Range(0, 4).Select(i => i == 0 ? App.Services.GetRequiredService<StaleHoldRecovery>() : AnotherInstancesRecovery()).ToList();
        var cutoff = App.Time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(600);
        var released = await Task.WhenAll(sweepers.Select(s => Task.Run(() => s.SweepOnceAsync(new OrphanedHolds(UnownedBefore: cutoff), force: true))));

        Assert.Equal(20, released.Sum(n => n ?? 0));
        Assert.Equal(5_000, (await ledger.SummaryAsync(account.UserId)).OnHoldMicros);
        Assert.Equal(20, await App.InStoreAsync(db => db.UsageRecords.CountAsync(r => r.ErrorCode == "interrupted" && r.CostMicros == 0)));
        await App.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task TheGatewaySweepsAtStartUpOnlyHoldsOlderThanItsSetting()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await writer.TryHoldAsync(account.UserId, null, "req_recent", 100);
        await WithoutInstanceAsync("req_recent");
        App.Time.Advance(TimeSpan.FromSeconds(599));

        Assert.Equal(0, await App.Services.GetRequiredService<StaleHoldRecovery>().SweepAsync());
        App.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await App.Services.GetRequiredService<StaleHoldRecovery>().SweepAsync());
    }

    /// <summary>As a Portal from before instance leases wrote them: the holds name no instance.</summary>
    private Task<int> WithoutInstanceAsync(string requestIdPrefix) =>
        App.InStoreAsync(db => db.Ledger.Where(e => e.RequestId!.StartsWith(requestIdPrefix)).ExecuteUpdateAsync(s => s.SetProperty(e => e.InstanceId, (string?)null)));

    /// <summary>A sweeper of its own, as another instance has (the lock and the store decide, not this process).</summary>
    private StaleHoldRecovery AnotherInstancesRecovery() => ActivatorUtilities.CreateInstance<StaleHoldRecovery>(App.Services);
}
