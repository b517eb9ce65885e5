using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Audit;
using Portal.Tests.Admin;
using Portal.Tests.Email;

namespace Portal.Tests.Account;

/// <summary>Changing the email: a link to the new address moves the account, and the old address is told.</summary>
public sealed class ChangeEmailTests
{
    private const string Email = "ada@example.com";
    private const string NewEmail = "ada@lovelace.example";
    private const string Password = "correct horse battery";

    [Fact]
    public async Task TheNewAddressConfirmsTheChangeAndTheOldOneIsTold()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(smtp.Settings());
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var asked = await (await ChangeEmailAsync(browser, NewEmail, Password)).PageAsync();
        Assert.Equal([$"We mailed a link to {NewEmail}. Your email changes when you follow it; until then, keep using {Email}."], Html.Successes(asked));
        Assert.NotNull(await app.FindUserAsync(Email)); // nothing changes before the link is followed
        await app.SendMailAsync();
        var confirm = Assert.Single(smtp.MessagesTo(NewEmail));
        Assert.Empty(smtp.MessagesTo(Email));

        var done = Html.Text(await browser.GetPageAsync(SmtpTestServer.LinkIn(confirm).PathAndQuery));
        Assert.Contains($"Your account's email is now {NewEmail}.", done);
        await app.SendMailAsync();

        var notice = Assert.Single(smtp.MessagesTo(Email));
        Assert.Equal("Your Portal email was changed", notice.Subject);
        Assert.Contains(NewEmail, notice.TextBody);
        Assert.Null(await app.FindUserAsync(Email));
        Assert.Equal("/", (await app.CreateBrowser().SignInAsync(NewEmail, Password)).RedirectTarget());
        Assert.Contains($"Email {NewEmail}", Html.Text(await browser.GetPageAsync("/settings/profile"))); // this session lives on
        Assert.Contains((await app.Service<AuditLog>().PageAsync(0, 10, AuditActions.EmailChange)).Entries,
            e => e.Details.Contains($"\"to\":\"{NewEmail}\"", StringComparison.Ordinal));

        // The link worked once.
        var again = await browser.GetAsync(SmtpTestServer.LinkIn(confirm).PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task AWrongPasswordSendsNothing()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var refused = await (await ChangeEmailAsync(browser, NewEmail, "not my password")).PageAsync();

        Assert.Equal(["That is not your current password. Nothing was changed."], Html.Errors(refused));
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.OutboxMessages.CountAsync());
    }

    private static Task<HttpResponseMessage> ChangeEmailAsync(Browser browser, string newEmail, string password) =>
        browser.SubmitFormAsync("/settings/profile", "change-email", new Dictionary<string, string>
        {
            ["EmailInput.NewEmail"] = newEmail,
            ["EmailInput.Password"] = password,
        });
}
