using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Credits;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

/// <summary>The users page: the account list, and granting or deducting credits from it.</summary>
public sealed class AdminPageTests : AdminComponentTestBase
{

    private static List<List<string>> Rows(IRenderedComponent<AdminPage> page) =>
        page.FindAll("tbody tr")
            .Select(row => row.QuerySelectorAll("td").Select(cell => cell.TextContent.Trim()).ToList())
            .ToList();

    [Fact]
    public async Task TheAdminPageListsAccountsWithTheirRoleAndBalanceOldestFirst()
    {
        await SignInAsAdminAsync("zed@example.com");
        App.Time.Advance(TimeSpan.FromDays(1));
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        await App.Service<CreditsLedger>().GrantAsync(amy.Id, Money.FromUsd(3.5m), "seed", null);

        var page = Render<AdminPage>();

        // The grid loads from the store asynchronously; this waits for that render, not for time.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), Wait);
        var rows = Rows(page);
        Assert.Equal(["zed@example.com", "Admin", "$0.00", "2026-11-22 09:30 UTC", "Adjust"], rows[0]);
        Assert.Equal(["amy@example.com", "User", "$3.50", "2026-11-23 09:30 UTC", "Adjust"], rows[1]);
    }

    [Fact]
    public async Task SearchNarrowsTheListByEmail()
    {
        await SignInAsAdminAsync();
        App.Time.Advance(TimeSpan.FromMinutes(1));
        await App.CreateUserAsync("amy@corp.test", AdminTestHelpers.Password);
        await App.CreateUserAsync("bob@home.test", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tbody tr").Count), Wait);

        page.Find("#user-search").Change("corp");
        page.Find("form.user-search").Submit();

        page.WaitForAssertion(() => Assert.Equal("amy@corp.test", Assert.Single(Rows(page))[0]), Wait);
    }

    [Fact]
    public async Task AnAdminGrantsCreditsAndSeesTheNewBalance()
    {
        var admin = await SignInAsAdminAsync();
        App.Time.Advance(TimeSpan.FromMinutes(1)); // listed after the admin
        var amy = await App.CreateUserAsync("amy@example.com", AdminTestHelpers.Password);
        var page = Render<AdminPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), Wait);

        page.Find("button[aria-label='Adjust credits of amy@example.com']").Click();
        page.Find("#credit-amount").Change("12.5");
        page.Find("#credit-reason").Change("conference voucher");
        page.Find("section.credit-form form").Submit();

        page.WaitForAssertion(() => Assert.Equal("Granted $12.50 to amy@example.com. Their balance is now $12.50.", page.Find(".alert-success").TextContent.Trim()), Wait);
        page.WaitForAssertion(() => Assert.Equal("$12.50", Rows(page)[1][2]), Wait);
        Assert.Empty(page.FindAll("section.credit-form"));
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
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), Wait);

        page.Find("button[aria-label^='Adjust credits of api-']").Click();
        page.Find("input[value=deduct]").Change("deduct");
        Assert.Equal("Deduct credits", page.Find("section.credit-form button[type=submit]").TextContent.Trim());
        page.Find("#credit-amount").Change("5");
        page.Find("#credit-reason").Change("chargeback");
        page.Find("section.credit-form form").Submit();

        page.WaitForAssertion(() => Assert.EndsWith("has $2.00, less than the $5.00 you asked to deduct. Nothing was deducted.",
            page.Find("section.credit-form .alert-error").TextContent.Trim()), Wait);
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
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), Wait);

        page.Find("button[aria-label='Adjust credits of amy@example.com']").Click();
        page.Find("#credit-amount").Change("-3");
        page.Find("section.credit-form form").Submit();

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
        page.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, page.Find(".alert-error").TextContent.Trim()), Wait);
        Assert.DoesNotContain("mallory@example.test", page.Markup);

        // Even with the form in hand (a forged event), the grant is refused on the server.
        var form = Render<CreditAdjustForm>(p => p
            .Add(f => f.User, new UserRow(mallory.Id, mallory.Email!, false, 0, DateTime.UtcNow))
            .Add(f => f.OnDone, _ => { })
            .Add(f => f.OnCancel, () => { }));
        form.Find("#credit-amount").Change("1000");
        form.Find("#credit-reason").Change("free money");
        form.Find("form").Submit();

        form.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, form.Find(".alert-error").TextContent.Trim()), Wait);
        Assert.Equal(0, await App.BalanceAsync(mallory.Id));
        Assert.Equal(0, await App.InStoreAsync(db => db.Ledger.CountAsync()));
    }
}
