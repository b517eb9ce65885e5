using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

/// <summary>The users page: the account list, granting or deducting credits from it, and roles.</summary>
public sealed class AdminPageTests : AdminComponentTestBase
{
    private const string AccountRows = "tbody tr.mud-table-row";

    private static List<List<string>> Rows(IRenderedComponent<AdminPage> page) =>
        page.FindAll(AccountRows)
            .Select(row => row.QuerySelectorAll("td").Select(cell => cell.QuerySelectorAll("button") is { Length: > 0 } buttons
                ? string.Join(" ", buttons.Select(b => b.TextContent.Trim()))
                : cell.TextContent.Trim()).ToList())
            .ToList();

    private static void Submit(IRenderedComponent<AdminPage> page) => page.Find("#credit-form-title").ParentElement!.QuerySelector("form")!.Submit();

    [Fact]
    public async Task TheAdminPageListsAccountsWithTheirRoleAndBalanceOldestFirst()
    {
        await SignInAsAdminAsync("zed@example.com");
        App.Time.Advance(TimeSpan.FromDays(1));
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        await App.Service<CreditsLedger>().GrantAsync(amy.Id, Money.FromUsd(3.5m), "seed", null);

        var page = Render<AdminPage>();

        // The grid loads from the store asynchronously; this waits for that render, not for time.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);
        var rows = Rows(page);
        Assert.Equal(["zed@example.com", "Admin", "$0.00", "2026-11-22 09:30 UTC", "Adjust Remove admin"], rows[0]);
        Assert.Equal(["amy@example.com", "User", "$3.50", "2026-11-23 09:30 UTC", "Adjust Make admin"], rows[1]);
    }

    [Fact]
    public async Task SearchNarrowsTheListByEmail()
    {
        await SignInAsAdminAsync();
        App.Time.Advance(TimeSpan.FromMinutes(1));
        await App.CreateUserAsync("amy@corp.test", AdminTestHelpers.Password);
        await App.CreateUserAsync("bob@home.test", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll(AccountRows).Count), Wait);

        page.Find("#user-search").Input("corp");
        page.Find("form[role=search]").Submit();

        page.WaitForAssertion(() => Assert.Equal("amy@corp.test", Assert.Single(Rows(page))[0]), Wait);
    }

    [Fact]
    public async Task AnAdminGrantsCreditsAndSeesTheNewBalance()
    {
        var admin = await SignInAsAdminAsync();
        App.Time.Advance(TimeSpan.FromMinutes(1)); // listed after the admin
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);

        page.Find("button[aria-label='Adjust credits of amy@example.com']").Click();
        page.Find("#credit-amount").Change("12.5");
        page.Find("#credit-reason").Change("conference voucher");
        Submit(page);
        Answer("Give $12.50 to amy@example.com, for \"conference voucher\"?", "Grant $12.50");

        ExpectSnackbar("Granted $12.50 to amy@example.com. Their balance is now $12.50.");
        page.WaitForAssertion(() => Assert.Equal("$12.50", Rows(page)[1][2]), Wait);
        Assert.Empty(page.FindAll("#credit-form-title"));
        var entry = await App.InStoreAsync(db => db.Ledger.SingleAsync());
        Assert.Equal((amy.Id, Money.FromUsd(12.5m), admin.Id), (entry.UserId, entry.AmountMicros, entry.ActorId));
        Assert.Equal(AuditActions.CreditsGrant, await App.InStoreAsync(db => db.AuditEntries.Select(e => e.Action).SingleAsync()));
    }

    [Fact]
    public async Task AnOverDeductionIsRefusedOnTheFormAndChangesNothing()
    {
        await SignInAsAdminAsync();
        var account = await App.CreateApiAccountAsync(credits: 2m);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);

        page.Find("button[aria-label^='Adjust credits of api-']").Click();
        page.FindAll("label.mud-radio").Single(l => l.TextContent.Contains("Deduct: take credits away")).QuerySelector("input")!.Click();
        Assert.Equal("Deduct credits", page.Find("#credit-form-title").ParentElement!.QuerySelector("button[type=submit]")!.TextContent.Trim());
        page.Find("#credit-amount").Change("5");
        page.Find("#credit-reason").Change("chargeback");
        Submit(page);
        Answer("Take $5.00 from", "Deduct $5.00");

        page.WaitForAssertion(() => Assert.EndsWith("has $2.00, less than the $5.00 you asked to deduct. Nothing was deducted.",
            page.Find("#credit-form-title").ParentElement!.QuerySelector("[role=alert]")!.TextContent.Trim()), Wait);
        Assert.Equal("5", page.Find("#credit-amount").GetAttribute("value")); // what was typed is kept
        Assert.Equal(Money.FromUsd(2m), await App.BalanceAsync(account.UserId));
        Assert.Equal(0, await App.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Fact]
    public async Task ABadAmountShowsAMessageBesideTheField()
    {
        await SignInAsAdminAsync();
        await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);

        page.Find("button[aria-label='Adjust credits of amy@example.com']").Click();
        page.Find("#credit-amount").Change("-3");
        Submit(page); // nothing to confirm: the server says what is wrong

        page.WaitForAssertion(() => Assert.StartsWith("Enter an amount in USD greater than 0", page.Find("#credit-amount-error").TextContent), Wait);
        Assert.Equal("true", page.Find("#credit-amount").GetAttribute("aria-invalid"));
        Assert.StartsWith("Give a reason", page.Find("#credit-reason-error").TextContent);
        Assert.Equal(0, await App.InStoreAsync(db => db.Ledger.CountAsync()));
    }

    [Fact]
    public async Task ANonAdminsCircuitGetsNoAccountsAndCannotGrant()
    {
        var mallory = await SignInAsNonAdminAsync();

        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, page.Find("[role=alert]").TextContent.Trim()), Wait);
        Assert.DoesNotContain("mallory@example.test", page.Markup);

        // Even with the form in hand (a forged event), the grant is refused on the server.
        var form = Render<CreditAdjustForm>(p => p
            .Add(f => f.User, new UserRow(mallory.Id, mallory.Email!, false, 0, DateTime.UtcNow))
            .Add(f => f.OnDone, _ => { })
            .Add(f => f.OnCancel, () => { }));
        form.Find("#credit-amount").Change("1000");
        form.Find("#credit-reason").Change("free money");
        form.Find("form").Submit();
        Answer("Give $1,000.00 to mallory@example.test", "Grant $1,000.00");

        form.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, form.Find("[role=alert]").TextContent.Trim()), Wait);
        Assert.Equal(0, await App.BalanceAsync(mallory.Id));
        Assert.Equal(0, await App.InStoreAsync(db => db.Ledger.CountAsync()));
    }

    [Fact]
    public async Task CancellingTheConfirmationMovesNoMoney()
    {
        await SignInAsAdminAsync();
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);

        page.Find("button[aria-label='Adjust credits of amy@example.com']").Click();
        page.Find("#credit-amount").Change("1000");
        page.Find("#credit-reason").Change("typo");
        Submit(page);
        Answer("Give $1,000.00 to amy@example.com", "Cancel");

        Assert.Equal(0, await App.BalanceAsync(amy.Id));
        Assert.Equal(0, await App.InStoreAsync(db => db.Ledger.CountAsync()));
        Assert.Equal("1000", page.Find("#credit-amount").GetAttribute("value")); // still there to correct
    }

    [Fact]
    public async Task AnAdminMakesAUserAnAdminAfterConfirmingAndItIsAudited()
    {
        var admin = await SignInAsAdminAsync();
        App.Time.Advance(TimeSpan.FromMinutes(1));
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(AccountRows).Count), Wait);

        page.Find("button[aria-label='Make amy@example.com an admin']").Click();
        Answer("Make amy@example.com an admin?", "Make admin");

        ExpectSnackbar("amy@example.com is now an admin.");
        page.WaitForAssertion(() => Assert.Equal("Admin", Rows(page)[1][1]), Wait);
        Assert.NotNull(await App.GuardFor(amy.Id).RequireAdminAsync());
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((admin.Id, AuditActions.RoleSet, "user:amy@example.com"), (entry.ActorId, entry.Action, entry.Target));
        Assert.Equal($$"""{"userId":"{{amy.Id}}","role":"Admin"}""", entry.Details);
    }

    [Fact]
    public async Task AnAdminCannotRemoveTheirOwnAdminRole()
    {
        var admin = await SignInAsAdminAsync();
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(AccountRows)), Wait);

        page.Find($"button[aria-label='Remove the admin role of {admin.Email}']").Click();
        Answer($"Make {admin.Email} a user again?", "Remove admin");

        ExpectSnackbar("You cannot remove your own admin role. Another admin can, or the command line (set-role). Nothing was changed.");
        Assert.NotNull(await App.GuardFor(admin.Id).RequireAdminAsync());
        Assert.Equal(0, await App.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Fact]
    public async Task TheGridPagesAndSortsOnTheServer()
    {
        await SignInAsAdminAsync("zz-root@example.com");
        for (var i = 0; i < 21; i++)
        {
            App.Time.Advance(TimeSpan.FromMinutes(1));
            await App.CreateUserAsync($"user{i:00}@example.com", AdminTestHelpers.Password);
        }

        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(20, page.FindAll(AccountRows).Count), Wait);
        Assert.Equal("zz-root@example.com", Rows(page)[0][0]); // oldest first

        page.Find("button[aria-label='Next page']").Click();
        page.WaitForAssertion(() => Assert.Equal(["user19@example.com", "user20@example.com"], Rows(page).Select(r => r[0])), Wait);

        // By email: the header's sort button asks the server for that order, from the first page.
        page.FindAll("th").Single(th => th.TextContent.Contains("Email")).QuerySelector("button.sort-direction-icon")!.Click();
        page.WaitForAssertion(() => Assert.Equal("user00@example.com", Rows(page)[0][0]), Wait);
    }
}
