using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

/// <summary>
/// The key list's Budget action: a dialog that sets, changes or removes a key's budget that resets and
/// its time zone, says what a lower amount does, and explains bad values beside their fields without
/// saving anything.
/// </summary>
public sealed class KeyBudgetDialogTests : ApiKeysPageTestBase
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static void OpenBudget(IRenderedComponent<KeysPageHost> page, string keyName)
    {
        page.FindAll("button").Single(b => b.GetAttribute("aria-label") == $"Budget of {keyName}").Click();
        page.WaitForElement("[data-testid=budget-dialog] form", Wait);
    }

    private static void SubmitBudget(IRenderedComponent<KeysPageHost> page) => page.Find("[data-testid=budget-dialog] form").Submit();

    [Fact]
    public async Task TheOwnerSetsABudgetInATimeZoneAndTheListShowsIt()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("billing"));
        var page = RenderPageAs(user);
        OpenBudget(page, "billing");
        Assert.Contains("set below it, the key stops until the period ends", page.Find("[data-testid=budget-note]").TextContent);

        page.Find("#key-budget-edit-amount").Change("2.50");
        page.Find("#key-budget-edit-zone").Change(" Europe/Berlin ");
        SubmitBudget(page);

        page.WaitForAssertion(() => Assert.Contains(Snackbars(page), s => s.Contains("The key's budget is now $2.50 daily (Europe/Berlin)")), Wait);
        var stored = Assert.Single(await KeysOfAsync(user.Id));
        Assert.Equal(new KeyBudget(BudgetPeriod.Day, 2_500_000, "Europe/Berlin"), stored.Budget);
        Assert.Equal(1, await App.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.KeyBudgetSet && e.ActorId == user.Id)));
        // 09:30 UTC is 10:30 in Berlin: the day there ends at 23:00 UTC.
        page.WaitForAssertion(() => Assert.Contains("resets 2026-11-22 23:00 UTC (periods in Europe/Berlin)", page.Find("[data-testid=key-budget]").TextContent), Wait);
        Assert.Equal(key.Id, stored.Id);
    }

    [Fact]
    public async Task AnEmptyAmountRemovesTheBudget()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("capped", Budget: new KeyBudget(BudgetPeriod.Week, 5_000_000, "Asia/Tokyo")));
        var page = RenderPageAs(user);
        OpenBudget(page, "capped");
        Assert.Equal("5.00", page.Find("#key-budget-edit-amount").GetAttribute("value"));
        Assert.Equal("Asia/Tokyo", page.Find("#key-budget-edit-zone").GetAttribute("value"));

        page.Find("#key-budget-edit-amount").Change("");
        SubmitBudget(page);

        page.WaitForAssertion(() => Assert.Contains(Snackbars(page), s => s.Contains("The key's budget was removed.")), Wait);
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).Budget);
    }

    [Theory]
    [InlineData("-1", "", "#key-budget-edit-amount", "more than $0")]
    [InlineData("abc", "", "#key-budget-edit-amount", "Enter an amount in US dollars")]
    [InlineData("1e999", "", "#key-budget-edit-amount", "Enter an amount in US dollars")]
    [InlineData("99999999999", "", "#key-budget-edit-amount", "at most $1,000,000,000")]
    [InlineData("5", "../../../etc/passwd", "#key-budget-edit-zone", "Enter a time zone such as Europe/Berlin")]
    [InlineData("5", "Mars/Olympus_Mons", "#key-budget-edit-zone", "Enter a time zone such as Europe/Berlin")]
    [InlineData("5", "<script>alert(1)</script>", "#key-budget-edit-zone", "Enter a time zone such as Europe/Berlin")]
    public async Task BadValuesAreExplainedBesideTheirFieldAndSaveNothing(string amount, string zone, string field, string message)
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("plain"));
        var page = RenderPageAs(user);
        OpenBudget(page, "plain");

        page.Find("#key-budget-edit-amount").Change(amount);
        page.Find("#key-budget-edit-zone").Change(zone);
        SubmitBudget(page);

        page.WaitForAssertion(() => Assert.Contains(message, MessageBeside(page, field)), Wait);
        Assert.Equal(amount, page.Find("#key-budget-edit-amount").GetAttribute("value"));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).Budget);
        Assert.False(await App.InStoreAsync(db => db.AuditEntries.AnyAsync(e => e.Action == AuditActions.KeyBudgetSet)));
    }

    [Fact]
    public async Task AHugeTimeZoneIsRefusedWithoutSaving()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("plain"));
        var page = RenderPageAs(user);
        OpenBudget(page, "plain");

        page.Find("#key-budget-edit-amount").Change("5");
        page.Find("#key-budget-edit-zone").Change("Europe/" + new string('x', 200_000));
        SubmitBudget(page);

        page.WaitForAssertion(() => Assert.Contains("Enter a time zone", MessageBeside(page, "#key-budget-edit-zone")), Wait);
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).Budget);
    }
}
