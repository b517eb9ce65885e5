using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed class AccountJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task NewVisitorSignsUpSignsOutAndSignsInAgain() => RunAsync(async () =>
    {
        var account = Account.New();
        var page = await NewPageAsync();
        var signup = new SignupPage(page);
        var home = new HomePage(page);
        var login = new LoginPage(page);

        await signup.GotoAsync();
        await signup.CreateAccountAsync(account);

        await home.ExpectOpenAsync();
        await Expect(home.Header.UserEmail).ToHaveTextAsync(account.Email);

        await home.WaitUntilInteractiveAsync();
        await home.Header.SignOutAsync();

        await Expect(home.Header.SignInLink).ToBeVisibleAsync();
        await Expect(home.Header.UserEmail).ToHaveCountAsync(0);

        await login.GotoAsync();
        await login.SignInAsync(account);

        await home.ExpectOpenAsync();
        await Expect(home.Header.UserEmail).ToHaveTextAsync(account.Email);
    });

    [Fact]
    public Task WrongPasswordIsRefusedWithAMessageOnTheLoginPage() => RunAsync(async () =>
    {
        var account = await Portal.CreateUserAsync();
        var login = new LoginPage(await NewPageAsync());

        await login.GotoAsync();
        await login.SignInAsync(account.Email, "not the right password");

        await Expect(login.Error).ToHaveTextAsync("That email and password don't match an account.");
        await login.ExpectOpenAsync();
        await Expect(login.Header.UserEmail).ToHaveCountAsync(0);
    });

    [Fact]
    public Task OnAPhoneASignupMistakeIsExplainedBesideTheFieldAndTheEmailKept() => RunAsync(async () =>
    {
        var account = Account.New();
        var signup = new SignupPage(await NewPageAsync(viewport: new() { Width = 390, Height = 844 }));
        await signup.GotoAsync();

        // The form doesn't let the browser refuse first: the server's words explain it.
        await signup.CreateAccountAsync(account.Email, "short", "short");

        await signup.ExpectOpenAsync();
        await Expect(signup.PasswordBox).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(signup.PasswordBox).ToHaveAccessibleDescriptionAsync("Passwords are 10 to 128 characters long.");
        await Expect(signup.Page.GetByLabel("Email", new() { Exact = true })).ToHaveValueAsync(account.Email);
        await Expect(signup.Header.UserEmail).ToHaveCountAsync(0);
    });

    [Fact]
    public Task ASignedInUserChangesTheirPasswordOnTheProfilePage() => RunAsync(async () =>
    {
        var account = await Portal.CreateUserAsync();
        var profile = new ProfilePage(await NewPageAsync(account));
        await profile.GotoAsync();
        await Expect(profile.Account).ToContainTextAsync(account.Email);

        await profile.ChangePasswordAsync(account.Password, "not the old one");
        await Expect(profile.PasswordError).ToHaveCountAsync(0);
        await Expect(profile.PasswordChanged).ToHaveTextAsync("Your password has been changed. Other signed-in sessions end within a minute.");

        var login = new LoginPage(await NewPageAsync());
        await login.GotoAsync();
        await login.SignInAsync(account.Email, "not the old one");
        await new HomePage(login.Page).ExpectOpenAsync();
    });
}
