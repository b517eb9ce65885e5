using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Billing;

/// <summary>
/// On SQLite too, holds that name no instance (made before instance leases, ADR 20) are settled while
/// Portal runs, not only at its next start: periodically, once older than Gateway:StaleHoldSeconds;
/// the running instance's own holds are never touched, whatever their age.
/// </summary>
public sealed class PeriodicSweepTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Gateway:StaleHoldSeconds"] = "600" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ThePeriodicSweepOnSqliteReleasesOldUnownedHoldsAndLeavesLiveOnes()
    {
        _app.Time.TimersFollowClock = true;
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var writer = _app.Services.GetRequiredService<LedgerWriter>();
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_abandoned", 1_000));
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_running", 5_000));
        await _app.InStoreAsync(db => db.Ledger.Where(e => e.RequestId == "req_abandoned").ExecuteUpdateAsync(s => s.SetProperty(e => e.InstanceId, (string?)null)));
        _app.Time.Advance(TimeSpan.FromSeconds(400)); // the sweep (due at 300 s) finds it 400 s old: not yet

        _app.Time.Advance(TimeSpan.FromSeconds(300)); // the next, at 700 s
        var released = await SettlementJournalTests.WaitForRecordAsync(_app, "req_abandoned");

        Assert.Equal(("interrupted", 0), (released.ErrorCode, released.CostMicros));
        Assert.Equal(5_000, (await _app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        Assert.False(await _app.InStoreAsync(db => db.Ledger.AnyAsync(e => e.RequestId == "req_running" && e.Kind == LedgerKind.Release)));
        await _app.AssertLedgerConsistentAsync();
    }
}
