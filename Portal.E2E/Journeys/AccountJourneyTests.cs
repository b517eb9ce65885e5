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
}
