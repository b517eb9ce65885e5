using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the pages of email verification, password reset and the admin Outbox in both
/// themes, on a desktop and a phone. The fixture's Portal has no SMTP server, so its mail is the
/// .eml files in its data folder, which is also where the reset link is read from.
/// <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter EmailScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class EmailScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheEmailPages() => RunAsync(async () =>
    {
        var folder = Folder();
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";
                // A fresh sign-up, unverified, with a sign-in and a failed one in its security log.
                var account = Account.New();
                var page = await ThemedPageAsync(theme, null, viewport);
                var signup = new SignupPage(page);
                await signup.GotoAsync();
                await signup.CreateAccountAsync(account);
                await new HomePage(page).ExpectOpenAsync(); // signed in (the header folds the address away on a phone)
                var profile = new ProfilePage(page);
                await profile.GotoAsync();
                await Expect(page.GetByTestId("email-unverified")).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"profile-unverified-{name}");

                var visitor = await ThemedPageAsync(theme, null, viewport);
                await visitor.GotoAsync("/forgot-password");
                await ScreenshotAsync(visitor, folder, $"forgot-password-{name}");
                await visitor.GetByLabel("Email").FillAsync(account.Email);
                await visitor.GetByRole(AriaRole.Button, new() { Name = "Send the link" }).ClickAsync();
                await Expect(visitor.GetByRole(AriaRole.Region, new() { Name = "Reset your password" }).GetByRole(AriaRole.Status)).ToContainTextAsync("If an account uses that address");
                await ScreenshotAsync(visitor, folder, $"forgot-password-sent-{name}");

                await visitor.GotoAsync(await ResetLinkAsync(account.Email));
                await ScreenshotAsync(visitor, folder, $"reset-password-{name}");

                var admin = await ThemedPageAsync(theme, Portal.Admin, viewport);
                var outbox = new AdminOutboxPage(admin);
                await outbox.GotoAsync();
                await Expect(outbox.RowTo(account.Email).First).ToBeVisibleAsync();
                await ScreenshotAsync(admin, folder, $"admin-outbox-{name}");
            }
        }
    });

    /// <summary>The reset link in the .eml file written for <paramref name="address"/> (the sender writes it within seconds).</summary>
    private async Task<string> ResetLinkAsync(string address)
    {
        var outbox = Path.Combine(Portal.Server.DataFolder, "outbox");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
            {
                var message = await MimeKit.MimeMessage.LoadAsync(file);
                if (message.Subject == "Reset your Portal password" && message.To.Mailboxes.Any(m => m.Address == address))
                {
                    return Link().Match(message.TextBody ?? "").Value;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no reset mail for {address} within 30 s");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}
