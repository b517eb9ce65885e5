using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account.Pages;
using Portal.Data;
using Portal.Tests.Email;

namespace Portal.Tests.Account;

/// <summary>Password reset by mailed link: once, within its lifetime, and without telling who has an account.</summary>
public sealed class PasswordResetTests
{
    private const string Email = "ada@example.com";
    private const string OldPassword = "correct horse battery";
    private const string NewPassword = "staple tuned orbit lantern";

    [Fact]
    public async Task TheMailedLinkSetsANewPasswordOnceAndOnlyOnce()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(smtp.Settings());
        await app.CreateUserAsync(Email, OldPassword);
        using var browser = app.CreateBrowser();

        var asked = await (await RequestResetAsync(browser, Email)).PageAsync();
        Assert.Equal([ForgotPassword.Sent], Html.Successes(asked));
        await app.SendMailAsync();
        var link = SmtpTestServer.LinkIn(Assert.Single(smtp.MessagesTo(Email))).PathAndQuery;

        var reset = await (await SetPasswordAsync(browser, link, NewPassword)).PageAsync();
        Assert.Equal(["Your password has been changed. Sign in with the new one."], Html.Successes(reset));
        Assert.Equal("/", (await app.CreateBrowser().SignInAsync(Email, NewPassword)).RedirectTarget());
        Assert.Equal(["That email and password don't match an account."], Html.Errors(await (await app.CreateBrowser().SignInAsync(Email, OldPassword)).PageAsync()));

        var again = await SetPasswordAsync(browser, link, "another long passphrase");
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal([ResetPassword.LinkFailed], Html.Errors(await again.Content.ReadAsStringAsync()));
        Assert.Equal("/", (await app.CreateBrowser().SignInAsync(Email, NewPassword)).RedirectTarget());
    }

    [Fact]
    public async Task ALinkPastItsLifetimeIsRefused()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        // Identity's token provider reads the system clock, so the link's lifetime is what is moved here.
        await using var app = new PortalApplication(smtp.Settings())
        {
            TestServices = services => services.PostConfigure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = TimeSpan.FromSeconds(-1)),
        };
        await app.CreateUserAsync(Email, OldPassword);
        using var browser = app.CreateBrowser();
        await RequestResetAsync(browser, Email);
        await app.SendMailAsync();
        var link = SmtpTestServer.LinkIn(Assert.Single(smtp.MessagesTo(Email))).PathAndQuery;

        var expired = await SetPasswordAsync(browser, link, NewPassword);

        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Equal([ResetPassword.LinkFailed], Html.Errors(await expired.Content.ReadAsStringAsync()));
        Assert.Equal("/", (await app.CreateBrowser().SignInAsync(Email, OldPassword)).RedirectTarget());
    }

    [Fact]
    public async Task AnUnknownAddressGetsTheSameAnswerAndNothingIsQueued()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, OldPassword);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var known = await RequestResetAsync(app.CreateBrowser(), Email);
        var knownTook = clock.Elapsed;
        clock.Restart();
        var unknown = await RequestResetAsync(app.CreateBrowser(), "nobody@example.com");
        var unknownTook = clock.Elapsed;

        // Neither answers before the time every answer waits for (the known address also queues a mail).
        Assert.True(knownTook >= ForgotPassword.AnswerTime && unknownTook >= ForgotPassword.AnswerTime, $"known {knownTook}, unknown {unknownTook}");
        Assert.Equal(known.StatusCode, unknown.StatusCode);
        Assert.Equal(Html.Text(Scrub(await known.PageAsync())), Html.Text(Scrub(await unknown.PageAsync())));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal([Email], await db.OutboxMessages.Select(m => m.To).ToListAsync());
    }

    [Fact]
    public async Task ASecondRequestWithinTheCooldownQueuesNoSecondMail()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, OldPassword);

        await RequestResetAsync(app.CreateBrowser(), Email);
        var second = await (await RequestResetAsync(app.CreateBrowser(), Email)).PageAsync();

        Assert.Equal([ForgotPassword.Sent], Html.Successes(second));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.OutboxMessages.CountAsync());
    }

    private static Task<HttpResponseMessage> RequestResetAsync(Browser browser, string email) =>
        browser.SubmitFormAsync("/forgot-password", "forgot-password", new Dictionary<string, string> { ["Input.Email"] = email });

    private static Task<HttpResponseMessage> SetPasswordAsync(Browser browser, string link, string password) =>
        browser.SubmitFormAsync(link, "reset-password", new Dictionary<string, string>
        {
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
        });

    // What differs between any two renders: the antiforgery token and the ids of the card headings.
    private static string Scrub(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, @"(value|id|aria-labelledby)=""[^""]*""", "$1=\"\"");
}
