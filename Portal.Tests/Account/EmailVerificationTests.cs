using System.ClientModel;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Email;
using Portal.Tests.Gateway;

namespace Portal.Tests.Account;

/// <summary>With Accounts:RequireConfirmedEmail on: an account works, but keys and spending wait for the mailed link.</summary>
public sealed class EmailVerificationTests
{
    private const string Password = "correct horse battery";
    private const string Email = "ada@example.com";

    private static Dictionary<string, string?> Required(SmtpTestServer smtp) =>
        new(smtp.Settings()) { ["Accounts:RequireConfirmedEmail"] = "true" };

    [Fact]
    public async Task AnUnverifiedAccountMayNotCreateKeysOrSpendUntilItFollowsTheMailedLink()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(Required(smtp));
        using var browser = app.CreateBrowser();
        Assert.Equal("/", (await browser.SignUpAsync(Email, Password)).RedirectTarget());
        var user = (await app.FindUserAsync(Email))!;
        await app.Services.GetRequiredService<CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(5), "test credits", actorId: null);
        // A key from before verification was required (the keys page offers none now).
        var (_, key) = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("old key"));

        var keysPage = Html.Text(await browser.GetPageAsync("/settings/apikeys"));
        Assert.Contains(EmailVerification.Explanation, keysPage);
        Assert.DoesNotContain("Create key", keysPage);
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => app.OpenAiChat(key).CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(403, refused.Status);
        Assert.Contains("email_not_verified", refused.GetRawResponse()!.Content.ToString());

        await app.SendMailAsync();
        var link = SmtpTestServer.LinkIn(Assert.Single(smtp.MessagesTo(Email)));
        var confirmed = Html.Text(await browser.GetPageAsync(link.PathAndQuery));
        Assert.Contains("Your email is verified.", confirmed);

        Assert.True((await app.FindUserAsync(Email))!.EmailConfirmed);
        keysPage = Html.Text(await browser.GetPageAsync("/settings/apikeys"));
        Assert.DoesNotContain(EmailVerification.Explanation, keysPage);
        Assert.Contains("Create key", keysPage);
        app.Time.Advance(TimeSpan.FromSeconds(2)); // past the key cache's second
        var completion = await app.OpenAiChat(key).CompleteChatAsync([new UserChatMessage("Hi")]);
        Assert.NotEmpty(completion.Value.Content);
    }

    [Fact]
    public async Task AWrongOrTamperedLinkVerifiesNothing()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(Required(smtp));
        using var browser = app.CreateBrowser();
        await browser.SignUpAsync(Email, Password);
        await app.SendMailAsync();
        var link = SmtpTestServer.LinkIn(Assert.Single(smtp.MessagesTo(Email))).PathAndQuery;

        var response = await browser.GetAsync(link.Replace("code=", "code=AAAA"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("This link doesn't work", Html.Errors(await response.Content.ReadAsStringAsync()).Single());
        Assert.False((await app.FindUserAsync(Email))!.EmailConfirmed);
    }

    [Fact]
    public async Task ANewLinkCanBeSentFromTheProfileButNotTwiceWithinTheCooldown()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(Required(smtp));
        using var browser = app.CreateBrowser();
        await browser.SignUpAsync(Email, Password);
        Assert.Contains("not verified", Html.Text(await browser.GetPageAsync("/settings/profile")));

        var tooSoon = await (await browser.SubmitFormAsync("/settings/profile", "resend-confirmation", new Dictionary<string, string>())).PageAsync();
        Assert.StartsWith("A link went out a moment ago.", Html.Errors(tooSoon).Single());

        app.Time.Advance(TimeSpan.FromSeconds(61));
        var again = await (await browser.SubmitFormAsync("/settings/profile", "resend-confirmation", new Dictionary<string, string>())).PageAsync();
        Assert.Equal([$"A new link is on its way to {Email}."], Html.Successes(again));

        await app.SendMailAsync();
        var mails = smtp.MessagesTo(Email);
        Assert.Equal(2, mails.Count);
        // Either link works; the newer one is followed here.
        Assert.Contains("Your email is verified.", Html.Text(await browser.GetPageAsync(SmtpTestServer.LinkIn(mails[^1]).PathAndQuery)));
        Assert.Contains("verified", Html.Text(await browser.GetPageAsync("/settings/profile")));
        Assert.DoesNotContain("not verified", Html.Text(await browser.GetPageAsync("/settings/profile")));
    }

    [Fact]
    public async Task WithTheRequirementOffAnUnverifiedAccountUsesTheApi()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();
        await browser.SignUpAsync(Email, Password);
        var user = (await app.FindUserAsync(Email))!;
        await app.Services.GetRequiredService<CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(5), "test credits", actorId: null);
        var (_, key) = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("key"));

        Assert.False(user.EmailConfirmed);
        Assert.Contains("Create key", Html.Text(await browser.GetPageAsync("/settings/apikeys")));
        Assert.NotEmpty((await app.OpenAiChat(key).CompleteChatAsync([new UserChatMessage("Hi")])).Value.Content);
    }
}
