using Portal.E2E.Pages;

namespace Portal.E2E.Infrastructure;

/// <summary>An account the tests know the password of.</summary>
public sealed record Account(string Email, string Password)
{
    public const string DefaultPassword = "correct horse battery staple";

    /// <summary>A fresh address, so tests sharing one store never collide.</summary>
    public static Account New(string prefix = "user") =>
        new($"{prefix}-{Guid.NewGuid().ToString("N")[..8]}@example.test", DefaultPassword);
}

/// <summary>
/// Shared by the whole collection: one Portal over a fresh store with an admin created through the
/// CLI, and one headless Chromium. Each test opens its own browser contexts (own cookies).
/// </summary>
public sealed class PortalFixture : IAsyncLifetime
{
    private readonly Dictionary<string, string> _sessions = [];
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public PortalServer Server { get; } = PortalServer.Create();

    public Account Admin { get; } = Account.New("admin");

    private IBrowser Browser => _browser ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        // Playwright's expectations auto-wait; the first render of a circuit on a busy 2-core
        // machine can take longer than the 5 s default.
        SetDefaultExpectTimeout(15_000);
        try
        {
            // Chromium starts while Portal does; both take a few seconds on a small machine.
            await Task.WhenAll(StartPortalAsync(), StartBrowserAsync());
        }
        catch
        {
            await DisposeAsync(); // xunit may not: leave no server or browser behind
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            try
            {
                await _browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                // Bounded like a context's close (BrowserTest): disposing Playwright below ends its driver, and the browser with it.
            }

            _browser = null;
        }

        _playwright?.Dispose();
        _playwright = null;
        await Server.DisposeAsync();
    }

    private async Task StartPortalAsync()
    {
        await Server.CreateUserAsync(Admin.Email, Admin.Password, admin: true);
        await Server.StartAsync();
    }

    private async Task StartBrowserAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await LaunchChromiumAsync(_playwright);
    }

    /// <summary>Debian's Chromium, headless: Playwright's own browser download is not reachable from here.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    });

    /// <summary>Creates an account through the admin CLI, as an operator would.</summary>
    public async Task<Account> CreateUserAsync(bool admin = false)
    {
        var account = Account.New(admin ? "admin" : "user");
        await Server.CreateUserAsync(account.Email, account.Password, admin);
        return account;
    }

    /// <summary>A new browser context (cookies of its own) pointed at the server; signed in if asked.</summary>
    public async Task<IBrowserContext> NewContextAsync(Account? signedInAs = null, ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = Server.BaseAddress.ToString(),
            ViewportSize = viewport,
            Locale = "en-US",
            TimezoneId = "UTC",
            StorageState = signedInAs is null ? null : await SessionOfAsync(signedInAs),
        });
        context.SetDefaultTimeout(15_000);
        return context;
    }

    /// <summary>Signs in through the login page once per account and keeps the cookies for reuse.</summary>
    private async Task<string> SessionOfAsync(Account account)
    {
        if (_sessions.TryGetValue(account.Email, out var state))
        {
            return state;
        }

        await using var context = await NewContextAsync();
        var login = new LoginPage(await context.NewPageAsync());
        await login.GotoAsync();
        await login.SignInAsync(account);
        await Expect(login.Header.UserEmail).ToHaveTextAsync(account.Email);
        state = await context.StorageStateAsync();
        _sessions[account.Email] = state;
        return state;
    }
}

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "Portal";
}
