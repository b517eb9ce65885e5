using Microsoft.EntityFrameworkCore;
using Portal.Alerts;
using Portal.Audit;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.Alerts;

/// <summary>The low-balance alert on the profile page: what it accepts, what it refuses and says, and the security log.</summary>
public sealed class LowBalanceFormTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";

    [Theory]
    [InlineData("-5", "The amount must be more than $0.")]
    [InlineData("0", "The amount must be more than $0.")]
    [InlineData("10000000", "The amount can be at most $1,000,000.")]
    [InlineData("five dollars", "'five dollars' is not an amount in US dollars. Enter a number such as 5 or 12.50.")]
    [InlineData("1e3", "'1e3' is not an amount in US dollars. Enter a number such as 5 or 12.50.")]
    [InlineData("0.0000001", "Amounts go to the millionth of a dollar at most.")]
    [InlineData("", "Enter the amount to be alerted below, or turn the alert off.")]
    public async Task BadAmountsAreRefusedWithAClearMessageAndNothingIsSaved(string typed, string message)
    {
        await using var app = new PortalApplication();
        var user = await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var page = await (await SaveAsync(browser, typed)).PageAsync();

        Assert.Equal([message], Html.Errors(page));
        Assert.Null((await app.Service<LowBalanceAlerts>().GetAsync(user.Id)).ThresholdMicros);
        Assert.Equal(0, await app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.LowBalanceAlert)));
    }

    [Fact]
    public async Task AThresholdIsSavedShownAndLoggedAndCanBeTurnedOff()
    {
        await using var app = new PortalApplication();
        var user = await app.CreateUserAsync(Email, Password);
        await app.Service<Portal.Billing.CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(20m), "credits", actorId: null);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var saved = await (await SaveAsync(browser, "$12.50")).PageAsync();

        Assert.Equal([$"Saved. We will email {Email} when your balance falls below $12.50."], Html.Successes(saved));
        Assert.Contains("On: below $12.50.", Html.Text(saved));
        Assert.Contains("Low-balance alert changed", Html.Text(saved)); // the security log shows it at once
        Assert.Equal(new LowBalanceSetting(12_500_000, null), await app.Service<LowBalanceAlerts>().GetAsync(user.Id));
        var entry = await app.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.LowBalanceAlert));
        Assert.Equal(($"account:{user.Id}", user.Id), (entry.Target, entry.ActorId));
        Assert.Contains("\"thresholdUsd\":12.5", entry.Details);

        var off = await (await browser.SubmitFormAsync("/settings/profile", "low-balance-off", new Dictionary<string, string>())).PageAsync();

        Assert.Equal(["The low-balance alert is off."], Html.Successes(off));
        Assert.Contains("Off.", Html.Text(off));
        Assert.Null((await app.Service<LowBalanceAlerts>().GetAsync(user.Id)).ThresholdMicros);
        Assert.Equal(2, await app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.LowBalanceAlert)));
    }

    private static Task<HttpResponseMessage> SaveAsync(Browser browser, string typed) =>
        browser.SubmitFormAsync("/settings/profile", "low-balance", new Dictionary<string, string> { ["Input.ThresholdUsd"] = typed });
}
