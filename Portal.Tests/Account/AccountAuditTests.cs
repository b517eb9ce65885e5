using Portal.Audit;
using Portal.Tests.Admin;

namespace Portal.Tests.Account;

/// <summary>Sign-ins, failed sign-ins and password changes go into the audit log and show in the account's security log.</summary>
public sealed class AccountAuditTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";
    private const string NewPassword = "staple tuned orbit lantern";

    [Fact]
    public async Task SignInsFailuresAndPasswordChangesAreAuditedAndShownToTheAccount()
    {
        await using var app = new PortalApplication { RemoteIp = IPAddress.Parse("203.0.113.9") };
        var ada = await app.CreateUserAsync(Email, Password);

        await app.CreateBrowser().SignInAsync(Email, "wrong password!");
        await app.CreateBrowser().SignInAsync("nobody@example.com", "whatever it is");
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        await browser.ChangePasswordAsync(Password, NewPassword);

        var entries = (await app.Service<AuditLog>().PageAsync(0, 50, oldestFirst: true)).Entries;
        Assert.Equal(
            [
                (AuditActions.SignInFailed, "anonymous", $"account:{ada.Id}"),
                (AuditActions.SignInFailed, "anonymous", "email:nobody@example.com"),
                (AuditActions.SignIn, Email, $"account:{ada.Id}"),
                (AuditActions.PasswordChange, Email, $"account:{ada.Id}"),
            ],
            entries.Select(e => (e.Action, e.Actor, e.Target)));
        Assert.All(entries, e => Assert.Contains("203.0.113.9", e.Details));
        Assert.DoesNotContain(entries, e => e.Details.Contains(Password) || e.Details.Contains(NewPassword) || e.Details.Contains("wrong password!"));
        Assert.True((await app.Service<AuditLog>().VerifyAsync()).Ok);

        var profile = Html.Text(await browser.GetPageAsync("/settings/profile"));
        Assert.Contains("Password changed", profile);
        Assert.Contains("Signed in", profile);
        Assert.Contains("Failed sign-in", profile);
        Assert.DoesNotContain("nobody@example.com", profile);
    }
}
