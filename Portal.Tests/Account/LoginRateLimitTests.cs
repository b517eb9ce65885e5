namespace Portal.Tests.Account;

public sealed class LoginRateLimitTests
{
    private const string Password = "correct horse battery";
    private const string Throttled = "Too many sign-in attempts from here or for this account. Wait a minute, then try again.";
    private const string Mismatch = "That email and password don't match an account.";

    [Fact]
    public async Task AnEmailTriedTooOftenIsRefusedWith429EvenWithTheRightPassword()
    {
        await using var app = Limited(perIp: 100, perEmail: 3);
        await app.CreateUserAsync("ada@example.com", Password);
        await app.CreateUserAsync("bob@example.com", Password);
        using var browser = app.CreateBrowser();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal([Mismatch], Html.Errors(await (await browser.SignInAsync("ada@example.com", $"guess {attempt}")).PageAsync()));
        }

        var refused = await browser.SignInAsync("ADA@example.com ", Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal([Throttled], Html.Errors(await refused.Content.ReadAsStringAsync()));
        Assert.False(browser.HasAuthCookie);
        // Another account from the same client is not affected.
        Assert.Equal("/", (await browser.SignInAsync("bob@example.com", Password)).RedirectTarget());
    }

    [Fact]
    public async Task AClientTryingManyEmailsIsRefusedWhileOthersSignIn()
    {
        await using var app = Limited(perIp: 3, perEmail: 100);
        await app.CreateUserAsync("ada@example.com", Password);
        app.RemoteIp = IPAddress.Parse("198.51.100.9");
        using var attacker = app.CreateBrowser();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal([Mismatch], Html.Errors(await (await attacker.SignInAsync($"user{attempt}@example.com", Password)).PageAsync()));
        }

        var refused = await attacker.SignInAsync("ada@example.com", Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal([Throttled], Html.Errors(await refused.Content.ReadAsStringAsync()));

        app.RemoteIp = IPAddress.Parse("198.51.100.10");
        using var someoneElse = app.CreateBrowser();
        Assert.Equal("/", (await someoneElse.SignInAsync("ada@example.com", Password)).RedirectTarget());
    }

    [Fact]
    public async Task BehindALocalProxyEachForwardedClientHasItsOwnAllowance()
    {
        await using var app = Limited(perIp: 2, perEmail: 100);
        await app.CreateUserAsync("ada@example.com", Password);
        app.RemoteIp = IPAddress.Loopback; // nginx on this machine
        using var attacker = Forwarded(app, "spoofed, 198.51.100.9");
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            await attacker.SignInAsync($"user{attempt}@example.com", Password);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.SignInAsync("ada@example.com", Password)).StatusCode);
        using var someoneElse = Forwarded(app, "198.51.100.10");
        Assert.Equal("/", (await someoneElse.SignInAsync("ada@example.com", Password)).RedirectTarget());
    }

    [Fact]
    public async Task AnIpv6ClientCannotEscapeByTakingAnotherAddressOfItsNetwork()
    {
        await using var app = Limited(perIp: 2, perEmail: 100);
        await app.CreateUserAsync("ada@example.com", Password);
        using var attacker = app.CreateBrowser();
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            // A home or hosting line gets a whole /64: picking a new address in it is free.
            app.RemoteIp = IPAddress.Parse($"2001:db8:1:2::{attempt:x}");
            await attacker.SignInAsync($"user{attempt}@example.com", Password);
        }

        app.RemoteIp = IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.SignInAsync("ada@example.com", Password)).StatusCode);

        app.RemoteIp = IPAddress.Parse("2001:db8:1:3::1"); // the next /64: someone else
        using var someoneElse = app.CreateBrowser();
        Assert.Equal("/", (await someoneElse.SignInAsync("ada@example.com", Password)).RedirectTarget());
    }

    [Fact]
    public async Task AClientCreatingManyAccountsIsRefusedWhileOthersSignUp()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Accounts:SignUpsPerHourPerIp"] = "2",
            ["Accounts:WelcomeCreditsUsd"] = "1",
        });
        app.RemoteIp = IPAddress.Parse("198.51.100.9");
        for (var i = 1; i <= 2; i++)
        {
            using var farmer = app.CreateBrowser();
            Assert.Equal("/", (await farmer.SignUpAsync($"farm{i}@example.com", Password)).RedirectTarget());
        }

        using var refusedBrowser = app.CreateBrowser();
        var refused = await refusedBrowser.SignUpAsync("farm3@example.com", Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(["Too many accounts have been created from here. Try again in an hour."], Html.Errors(await refused.Content.ReadAsStringAsync()));
        Assert.Null(await app.FindUserAsync("farm3@example.com"));
        Assert.False(refusedBrowser.HasAuthCookie);

        // Another client is not affected.
        app.RemoteIp = IPAddress.Parse("198.51.100.10");
        using var someoneElse = app.CreateBrowser();
        Assert.Equal("/", (await someoneElse.SignUpAsync("ada@example.com", Password)).RedirectTarget());
        Assert.Equal(3, app.CountUsers());
    }

    private static PortalApplication Limited(int perIp, int perEmail) => new(new Dictionary<string, string?>
    {
        ["Accounts:LoginAttemptsPerMinutePerIp"] = perIp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Accounts:LoginAttemptsPerMinutePerEmail"] = perEmail.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private static Browser Forwarded(PortalApplication app, string forwardedFor)
    {
        var browser = app.CreateBrowser();
        browser.Client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return browser;
    }
}
