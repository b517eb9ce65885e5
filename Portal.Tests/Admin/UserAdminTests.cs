using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

public sealed class UserAdminTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private UserAdmin Users => _app.Service<UserAdmin>();

    [Fact]
    public async Task AGrantWritesALedgerEntryWithTheAdminsIdAndAnAuditEntry()
    {
        var (adminId, caller) = await _app.CreateAdminCallerAsync();
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);

        var result = await Users.AdjustCreditsAsync(caller, user.Id, new CreditAdjustment { Amount = "12.5", Reason = "welcome credits" });

        Assert.Equal("Granted $12.50 to ada@example.test. Their balance is now $12.50.", result.Done);
        var entry = await _app.InStoreAsync(db => db.Ledger.SingleAsync());
        Assert.Equal((user.Id, LedgerKind.Grant, Money.FromUsd(12.5m), "welcome credits", adminId),
            (entry.UserId, entry.Kind, entry.AmountMicros, entry.Reason, entry.ActorId));
        var audit = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((adminId, "root@example.test", AuditActions.CreditsGrant, "user:ada@example.test"), (audit.ActorId, audit.Actor, audit.Action, audit.Target));
        var details = JsonDocument.Parse(audit.Details).RootElement;
        Assert.Equal("12.5", details.GetProperty("amountUsd").GetString());
        Assert.Equal("welcome credits", details.GetProperty("reason").GetString());
        Assert.True((await _app.Service<AuditLog>().VerifyAsync()).Ok);
    }

    [Fact]
    public async Task ADeductionTakesCreditsAwayAndIsAuditedAsOne()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var account = await _app.CreateApiAccountAsync(credits: 10m);

        var result = await Users.AdjustCreditsAsync(caller, account.UserId, new CreditAdjustment { Amount = "2.25", Deduct = true, Reason = "refund reversal" });

        Assert.True(result.Succeeded, result.Problem);
        Assert.Equal(Money.FromUsd(7.75m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(-Money.FromUsd(2.25m), await _app.InStoreAsync(db => db.Ledger.OrderBy(e => e.Id).Select(e => e.AmountMicros).LastAsync()));
        Assert.Equal(AuditActions.CreditsDeduct, await _app.InStoreAsync(db => db.AuditEntries.Select(e => e.Action).SingleAsync()));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ADeductionLargerThanTheBalanceIsRefusedAndChangesNothing()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var account = await _app.CreateApiAccountAsync(credits: 2m);

        var result = await Users.AdjustCreditsAsync(caller, account.UserId, new CreditAdjustment { Amount = "3", Deduct = true, Reason = "oops" });

        Assert.False(result.Succeeded);
        Assert.Contains("has $2.00, less than the $3.00 you asked to deduct. Nothing was deducted.", result.Problem);
        Assert.Equal(Money.FromUsd(2m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(1, await _app.InStoreAsync(db => db.Ledger.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("ten")]
    [InlineData("1.0000001")]
    [InlineData("1e3")]
    [InlineData("2000000")]
    public async Task ABadAmountIsRefusedWithAMessageAndWritesNothing(string amount)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);

        var result = await Users.AdjustCreditsAsync(caller, user.Id, new CreditAdjustment { Amount = amount, Reason = "r" });

        Assert.StartsWith("Enter an amount in USD greater than 0", result.ErrorFor(nameof(CreditAdjustment.Amount)));
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Theory]
    [InlineData("", "Give a reason")]
    [InlineData("   ", "Give a reason")]
    [InlineData(null, "The reason is 501 characters long; at most 500 are kept.")]
    public async Task AMissingOrOverlongReasonIsRefused(string? reason, string message)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);

        var result = await Users.AdjustCreditsAsync(caller, user.Id, new CreditAdjustment { Amount = "1", Reason = reason ?? new string('x', 501) });

        Assert.StartsWith(message, result.ErrorFor(nameof(CreditAdjustment.Reason)));
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync()));
    }

    [Fact]
    public async Task AReasonOfExactly500CharactersIsKept()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);

        Assert.True((await Users.AdjustCreditsAsync(caller, user.Id, new CreditAdjustment { Amount = "0.000001", Reason = new string('x', 500) })).Succeeded);

        Assert.Equal(1, await _app.BalanceAsync(user.Id));
    }

    [Fact]
    public async Task SearchFindsAccountsByEmailPagesThemAndShowsBalancesAndRoles()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync("root@example.test");
        for (var i = 0; i < 5; i++)
        {
            _app.Time.Advance(TimeSpan.FromMinutes(1));
            await _app.CreateUserAsync($"dev{i}@corp.test", AdminTestHelpers.Password);
        }

        var dev3 = (await _app.FindUserAsync("dev3@corp.test"))!;
        await _app.Service<CreditsLedger>().GrantAsync(dev3.Id, Money.FromUsd(4.5m), "r", null);

        var all = await Users.SearchAsync(caller, null, 0, 20);
        Assert.Equal(6, all.Total);
        Assert.Equal(("root@example.test", true), (all.Rows[0].Email, all.Rows[0].IsAdmin));

        var page = await Users.SearchAsync(caller, "CORP.test", 2, 2);
        Assert.Equal(5, page.Total);
        Assert.Equal(["dev2@corp.test", "dev3@corp.test"], page.Rows.Select(r => r.Email));
        Assert.Equal([0, Money.FromUsd(4.5m)], page.Rows.Select(r => r.BalanceMicros));
        Assert.All(page.Rows, r => Assert.False(r.IsAdmin));

        Assert.Equal(0, (await Users.SearchAsync(caller, "%", 0, 20)).Total);
    }

    [Fact]
    public async Task SearchSortsByEmailOrJoinDateEitherWay()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync("root@example.test");
        foreach (var email in new[] { "cy@corp.test", "al@corp.test", "bo@corp.test" })
        {
            _app.Time.Advance(TimeSpan.FromMinutes(1));
            await _app.CreateUserAsync(email, AdminTestHelpers.Password);
        }

        async Task<IEnumerable<string>> Order(UserSort sort, bool descending) =>
            (await Users.SearchAsync(caller, "corp", 0, 20, sort, descending)).Rows.Select(r => r.Email);

        Assert.Equal(["cy@corp.test", "al@corp.test", "bo@corp.test"], await Order(UserSort.Joined, descending: false));
        Assert.Equal(["bo@corp.test", "al@corp.test", "cy@corp.test"], await Order(UserSort.Joined, descending: true));
        Assert.Equal(["al@corp.test", "bo@corp.test", "cy@corp.test"], await Order(UserSort.Email, descending: false));
        Assert.Equal(["cy@corp.test", "bo@corp.test", "al@corp.test"], await Order(UserSort.Email, descending: true));
        Assert.Equal(2, (await Users.SearchAsync(caller, "corp", 1, 500, UserSort.Email)).Rows.Count); // a page is bounded, whatever is asked
    }

    [Fact]
    public async Task ARoleChangeGoesThroughTheUserManagerWithAnAuditEntryAndCountsAtOnce()
    {
        var (adminId, caller) = await _app.CreateAdminCallerAsync();
        var other = await _app.CreateUserAsync("ops@example.test", AdminTestHelpers.Password, admin: true);

        var demoted = await Users.SetRoleAsync(caller, other.Id, makeAdmin: false);
        var again = await Users.SetRoleAsync(caller, other.Id, makeAdmin: false);

        Assert.Equal("ops@example.test is no longer an admin.", demoted.Done);
        Assert.True(again.Succeeded); // already a user: nothing to change, nothing to audit
        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor(other.Id).RequireAdminAsync());
        var entry = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((adminId, AuditActions.RoleSet, "user:ops@example.test", $$"""{"userId":"{{other.Id}}","role":"User"}"""),
            (entry.ActorId, entry.Action, entry.Target, entry.Details));

        var self = await Users.SetRoleAsync(caller, adminId, makeAdmin: false);
        Assert.StartsWith("You cannot remove your own admin role.", self.Problem);
        Assert.NotNull(await _app.GuardFor(adminId).RequireAdminAsync());
        Assert.Equal("That account no longer exists.", (await Users.SetRoleAsync(caller, "no-such-id", makeAdmin: true)).Problem);
        Assert.True((await _app.Service<AuditLog>().VerifyAsync()).Ok);
    }
}
