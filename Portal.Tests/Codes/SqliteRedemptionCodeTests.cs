using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Codes;
using Portal.Tests.Gateway;

namespace Portal.Tests.Codes;

/// <summary>On SQLite, and what only needs one store: the admin form's checks, the dashboard's form, its throttle.</summary>
public sealed class SqliteRedemptionCodeTests : RedemptionCodeTests
{
    protected override bool OnPostgres => false;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Accounts:CodeRedemptionsPerHourPerAccount"] = "3",
        ["Accounts:CodeRedemptionsPerHourPerIp"] = "5",
    };

    [Theory]
    [InlineData("", "3", "", "note", "Value")]
    [InlineData("-5", "3", "", "note", "Value")]
    [InlineData("abc", "3", "", "note", "Value")]
    [InlineData("10001", "3", "", "note", "Value")]
    [InlineData("5", "0", "", "note", "Count")]
    [InlineData("5", "1001", "", "note", "Count")]
    [InlineData("5", "ten", "", "note", "Count")]
    [InlineData("5", "3", "0", "note", "ExpiresInDays")]
    [InlineData("5", "3", "-1", "note", "ExpiresInDays")]
    [InlineData("5", "3", "soon", "note", "ExpiresInDays")]
    [InlineData("5", "3", "", "  ", "Note")]
    public async Task ABadBatchIsRefusedFieldByFieldAndMakesNothing(string value, string count, string days, string note, string field)
    {
        var (result, batch) = await Codes.GenerateAsync(AdminCaller.Cli, new NewCodeBatch { Value = value, Count = count, ExpiresInDays = days, Note = note });

        Assert.Null(batch);
        Assert.NotNull(result.ErrorFor(field));
        Assert.Equal(0, await App.InStoreAsync(db => db.CodeBatches.CountAsync()));
        Assert.Equal(0, await App.InStoreAsync(db => db.RedemptionCodes.CountAsync()));
    }

    [Fact]
    public async Task TheDashboardsFormRedeemsACodeSaysSoAndAuditsIt()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var code = (await GenerateAsync(value: "5", count: 1, note: "Meetup")).Codes[0];
        using var browser = await App.SignedInBrowserAsync("ada@example.com", Password);

        var response = await browser.SubmitFormAsync("/dashboard", "redeem", new Dictionary<string, string> { ["code"] = code.ToLowerInvariant() });

        var back = response.RedirectTarget();
        Assert.Equal("/dashboard?redeem=redeemed&amount=5000000", back); // and the card's #redeem, which the client keeps
        var page = await browser.GetPageAsync(back);
        Assert.Contains("Code redeemed: $5.00 was added to your balance.", page);
        Assert.Equal(Money.FromUsd(5m), await App.BalanceAsync(user.Id));
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.CodeRedeem));
        Assert.Equal(($"account:{user.Id}", user.Id), (entry.Target, entry.ActorId));
        Assert.Contains("\"batch\":", entry.Details);
        Assert.Contains("\"ip\":", entry.Details);
        Assert.DoesNotContain(code[7..], entry.Details);

        // The same code again: refused, in words, and nothing more is granted.
        var again = await browser.SubmitFormAsync("/dashboard", "redeem", new Dictionary<string, string> { ["code"] = code });
        Assert.Contains("This code has already been redeemed", await browser.GetPageAsync(again.RedirectTarget()));
        Assert.Equal(Money.FromUsd(5m), await App.BalanceAsync(user.Id));
    }

    [Fact]
    public async Task AVisitorCannotRedeem()
    {
        var code = (await GenerateAsync(count: 1)).Codes[0];
        using var visitor = App.CreateBrowser();

        var response = await visitor.Client.PostAsync(CodesExtensions.RedeemPath, new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = code }));

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, await App.InStoreAsync(db => db.RedemptionCodes.CountAsync(c => c.RedeemedAt != null)));
    }

    [Fact]
    public async Task AttemptsAreThrottledPerAccountAndPerAddressRightOrWrong()
    {
        var code = (await GenerateAsync(count: 1)).Codes[0];
        await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        using var ada = await App.SignedInBrowserAsync("ada@example.com", Password);
        using var bobs = await App.SignedInBrowserAsync("bob@example.com", Password);
        async Task<string> TryAsync(Browser browser, string typed) =>
            (await browser.SubmitFormAsync("/dashboard", "redeem", new Dictionary<string, string> { ["code"] = typed })).RedirectTarget();

        // Ada guesses three times (her account's hour); the fourth try is refused even with a real code.
        for (var i = 0; i < 3; i++)
        {
            Assert.StartsWith("/dashboard?redeem=notvalid", await TryAsync(ada, $"PORTAL-AAAAA-AAAAA-AAAAA-AAAA{i}"));
        }

        Assert.StartsWith("/dashboard?redeem=throttled", await TryAsync(ada, code));
        // Bob, from the same address: every attempt from it counted, Ada's refused one too, so one more is the address's five.
        Assert.StartsWith("/dashboard?redeem=notvalid", await TryAsync(bobs, "PORTAL-BBBBB-BBBBB-BBBBB-BBBBB"));
        var throttled = await TryAsync(bobs, code);
        Assert.StartsWith("/dashboard?redeem=throttled", throttled);
        Assert.Contains("Too many attempts to redeem a code", await bobs.GetPageAsync(throttled));
        Assert.Equal(0, await App.BalanceAsync(bob.Id));
        Assert.Equal(0, await App.InStoreAsync(db => db.RedemptionCodes.CountAsync(c => c.RedeemedAt != null)));
    }
}
