using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

/// <summary>The key form's budget that resets (ADR 29): stored as entered, shown on the list with its period's spend and reset, bad input explained.</summary>
public sealed class KeyBudgetFormTests : ApiKeysPageTestBase
{
    [Fact]
    public async Task ABudgetIsStoredAndTheListShowsTodaysSpendAndTheReset()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "budgeted");
        page.Find("#key-budget").Change("5");

        Submit(page);
        page.WaitForElement("[data-testid=new-key]", TimeSpan.FromSeconds(10));

        var key = Assert.Single(await KeysOfAsync(user.Id));
        Assert.Equal((BudgetPeriod.Day, (long?)5_000_000), (key.BudgetPeriod, key.BudgetMicros));
        WaitForRows(page, 1);
        // The test clock: 2026-11-22 09:30 UTC.
        Assert.Contains("$0.00 of $5.00 today · resets 2026-11-23 00:00 UTC", System.Text.RegularExpressions.Regex.Replace(page.Find("[data-testid=key-budget]").TextContent, @"\s+", " ").Trim());
    }

    [Theory]
    [InlineData("-5", "more than $0")]
    [InlineData("0", "more than $0")]
    [InlineData("five", "Enter an amount in US dollars")]
    [InlineData("1e3", "Enter an amount in US dollars")]
    [InlineData("99999999999", "at most $1,000,000,000")]
    [InlineData("0.0000001", "6 decimal places")]
    public async Task ABadBudgetIsExplainedBesideItsFieldAndCreatesNothing(string budget, string message)
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "x");
        page.Find("#key-budget").Change(budget);

        Submit(page);

        Assert.Contains(message, MessageBeside(page, "#key-budget"));
        Assert.Single(FieldErrors(page));
        Assert.Equal(budget, page.Find("#key-budget").GetAttribute("value"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }

    [Fact]
    public void TheFormTurnsABudgetIntoTheRequestAndEmptyMeansNone()
    {
        var form = new KeyForm(600) { Name = "ci", Budget = " $2.50 ", BudgetPeriod = BudgetPeriod.Month };

        Assert.Empty(form.Check(DateTimeOffset.UnixEpoch));
        Assert.Equal(new KeyBudget(BudgetPeriod.Month, 2_500_000), form.ToRequest().Budget);
        Assert.Null(new KeyForm(600) { Name = "ci" }.ToRequest().Budget);
    }

    [Theory]
    [InlineData(BudgetPeriod.Day, "2026-11-22T09:30:00Z", "2026-11-23T00:00:00Z")]
    [InlineData(BudgetPeriod.Week, "2026-11-22T09:30:00Z", "2026-11-23T00:00:00Z")] // a Sunday: Monday starts the next week
    [InlineData(BudgetPeriod.Week, "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z")]
    [InlineData(BudgetPeriod.Month, "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z")]
    [InlineData(BudgetPeriod.Month, "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z")]
    public void PeriodsResetAtUtcBoundaries(BudgetPeriod period, string at, string resets)
    {
        var now = DateTime.Parse(at, null, System.Globalization.DateTimeStyles.AdjustToUniversal);
        var budget = new KeyBudget(period, 1);

        Assert.Equal(resets, KeyBudget.Iso(budget.ResetAfter(now)));
        // The stored start of the period is what the debit compares; a later instant in it gives the same.
        Assert.Equal(budget.PeriodStartAt(now), budget.PeriodStartAt(budget.ResetAfter(now).AddSeconds(-1)));
        Assert.True(budget.PeriodStartAt(budget.ResetAfter(now)) > budget.PeriodStartAt(now));
    }
}
