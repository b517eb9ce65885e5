using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves full-page PNGs of the main pages, light and dark, on a desktop and a phone-sized screen so
/// people can look at the UI (the admin sections: <see cref="AdminScreenshotTool"/>). <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter ScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheMainPages() => RunAsync(async () =>
    {
        var folder = Folder();
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "Production server",
            "--rate-limit", "120", "--spend-cap", "50", "--models", "glm-5,kimi-k2", "--expires-days", "90");
        await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "Laptop experiments");
        await WithRefusingUpstreamAsync(async _ =>
        {
            await MakeSomeUsageAsync(user);
            foreach (var theme in Themes)
            {
                foreach (var viewport in Viewports)
                {
                    var size = $"{theme}-{viewport.Width}x{viewport.Height}";
                    var visitor = await ThemedPageAsync(theme, null, viewport);
                    await SaveAsync(new HomePage(visitor), folder, $"home-{size}");
                    await SaveAsync(new SignupPage(visitor), folder, $"signup-{size}");
                    await SaveAsync(new LoginPage(visitor), folder, $"login-{size}");
                    await SaveAsync(new DocsPage(visitor), folder, $"docs-{size}");
                    await SaveAsync(new DocsPage(visitor, "models"), folder, $"docs-models-{size}");
                    await SaveAsync(new DocsPage(visitor, "chat-completions"), folder, $"docs-chat-completions-{size}");
                    if (viewport.Width < 820)
                    {
                        var docs = new DocsPage(visitor, "quickstart");
                        await docs.GotoAsync();
                        await docs.MenuToggle.CheckAsync();
                        await ScreenshotAsync(visitor, folder, $"docs-menu-open-{size}");
                    }

                    await SaveAsync(new StatusPage(visitor), folder, $"status-{size}");
                    await SaveAsync(new ProfilePage(await ThemedPageAsync(theme, user, viewport)), folder, $"profile-{size}");
                    var dashboard = new DashboardPage(await ThemedPageAsync(theme, user, viewport));
                    await SaveAsync(dashboard, folder, $"dashboard-{size}", () => Expect(dashboard.Page.Locator("figure svg text").First).ToBeVisibleAsync());
                    await SaveAsync(new DashboardPage(await ThemedPageAsync(theme, await Portal.CreateUserAsync(), viewport)), folder, $"dashboard-empty-{size}");
                    await SaveAsync(new PlaygroundPage(await ThemedPageAsync(theme, user, viewport)), folder, $"playground-{size}");
                    await SaveApiKeysAsync(new ApiKeysPage(await ThemedPageAsync(theme, user, viewport)), folder, size);
                    await SaveAsync(new ApiKeysPage(await ThemedPageAsync(theme, await Portal.CreateUserAsync(), viewport)), folder, $"apikeys-empty-{size}");

                    var admin = new AdminPage(await ThemedPageAsync(theme, Portal.Admin, viewport));
                    await SaveAsync(admin, folder, $"admin-{size}", () => Expect(admin.RowOf(Portal.Admin.Email)).ToBeVisibleAsync());

                    if (viewport.Width < 820)
                    {
                        // The navigation is folded away on narrow screens; show it unfolded too.
                        await admin.Header.OpenMenuAsync();
                        await Expect(admin.Header.AdminLink).ToBeVisibleAsync();
                        await ScreenshotAsync(admin.Page, folder, $"admin-menu-open-{size}");
                    }
                }
            }
        });
    });

    /// <summary>The key list, the create form with a bad entry, the once-only key panel, revoking.</summary>
    private async Task SaveApiKeysAsync(ApiKeysPage keys, string folder, string size)
    {
        await SaveAsync(keys, folder, $"apikeys-{size}", () => Expect(keys.RowNamed("Production server")).ToBeVisibleAsync());
        await keys.OpenCreateFormAsync();
        await keys.SpendCapBox.FillAsync("0");
        await keys.SubmitCreateFormAsync();
        await Expect(keys.CreateForm).ToContainTextAsync("Give the key a name");
        await ScreenshotAsync(keys.Page, folder, $"apikeys-form-errors-{size}");
        await keys.NameBox.FillAsync($"CI pipeline {size}");
        await keys.SpendCapBox.FillAsync("");
        await keys.SubmitCreateFormAsync();
        await Expect(keys.NewKey).ToBeVisibleAsync();
        await ScreenshotAsync(keys.Page, folder, $"apikeys-new-key-{size}");
        await keys.CloseNewKeyAsync();
        await keys.AskToRevokeAsync($"CI pipeline {size}");
        await Expect(keys.RevokeDialog).ToBeVisibleAsync();
        await ScreenshotAsync(keys.Page, folder, $"apikeys-revoke-{size}", fullPage: false); // the dialog is fixed to the screen
        await keys.ConfirmRevokeAsync();
        await Expect(keys.StatusOf($"CI pipeline {size}")).ToHaveTextAsync("Revoked");
        await ScreenshotAsync(keys.Page, folder, $"apikeys-revoked-{size}");
    }

    /// <summary>
    /// The account and key pages in the light and the dark theme, on both screens, in the states that
    /// matter: field errors, an error box, a success box, the grid, the new key, the revoke question.
    /// <c>--filter FullyQualifiedName~SaveAccountAndKeyPagesInBothThemes</c> runs just this one.
    /// </summary>
    [ScreenshotFact]
    public Task SaveAccountAndKeyPagesInBothThemes() => RunAsync(async () =>
    {
        var folder = Folder();
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var size = $"{theme}-{viewport.Width}x{viewport.Height}";
                var user = await Portal.CreateUserAsync();
                await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "Production server",
                    "--rate-limit", "120", "--spend-cap", "50", "--models", "glm-5,kimi-k2", "--expires-days", "90");
                await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "Laptop experiments");

                var visitor = await ThemedPageAsync(theme, null, viewport);
                var signup = new SignupPage(visitor);
                await signup.GotoAsync();
                await signup.CreateAccountAsync("someone@example.com", "short", "shorter");
                await Expect(signup.PasswordBox).ToHaveAttributeAsync("aria-invalid", "true");
                await ScreenshotAsync(visitor, folder, $"account-signup-errors-{size}");
                var login = new LoginPage(visitor);
                await login.GotoAsync();
                await login.SignInAsync(user.Email, "not the password");
                await Expect(login.Error).ToBeVisibleAsync();
                await ScreenshotAsync(visitor, folder, $"account-login-error-{size}");
                await SaveAsync(new AccessDeniedPage(visitor), folder, $"account-access-denied-{size}");

                var profile = new ProfilePage(await ThemedPageAsync(theme, user, viewport));
                await profile.GotoAsync();
                await profile.ChangePasswordAsync("wrong current password", "a new pass phrase");
                await Expect(profile.PasswordError).ToBeVisibleAsync();
                await ScreenshotAsync(profile.Page, folder, $"account-profile-error-{size}");

                await SaveApiKeysAsync(new ApiKeysPage(await ThemedPageAsync(theme, user, viewport)), folder, size);
                await SaveAsync(new ApiKeysPage(await ThemedPageAsync(theme, await Portal.CreateUserAsync(), viewport)), folder, $"apikeys-empty-{size}");
            }
        }
    });

    private async Task SaveAsync(BasePage page, string folder, string name, Func<Task>? ready = null)
    {
        await page.GotoAsync();
        await page.ExpectOpenAsync();
        if (ready is not null)
        {
            await ready();
        }

        await ScreenshotAsync(page.Page, folder, name);
    }

}
