using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Account;
using Portal.Admin;

namespace Portal.Tests;

/// <summary>
/// The whole Portal, in memory, with its own store: a fresh temp folder for the SQLite file (or
/// whatever <paramref name="settings"/> choose, e.g. PostgreSQL), a clock the test controls, and
/// throwaway data-protection keys. Create one per test and dispose it; the folder goes with it.
/// </summary>
public sealed class PortalApplication(IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("portal-tests-").FullName;

    public ManualTimeProvider Time { get; } = new();

    /// <summary>Every log entry at or above <see cref="CaptureLogLevel"/>, whatever the console shows.</summary>
    public LogCapture Logs { get; } = new();

    public LogLevel CaptureLogLevel { get; init; } = LogLevel.Warning;

    /// <summary>
    /// Data Protection keys from the store, as in production, instead of throwaway ones in memory:
    /// for a store that already holds a key ring and secrets encrypted with it.
    /// </summary>
    public bool UsesStoredKeyRing { get; init; }

    /// <summary>The host environment, Development (the factory's default) unless a test needs another, e.g. for the error page.</summary>
    public string EnvironmentName { get; init; } = Environments.Development;

    /// <summary>The client address requests appear to come from (the in-memory server gives none).</summary>
    public IPAddress? RemoteIp { get; set; }

    /// <summary>Services changed after the app's own, e.g. an Identity option no setting reaches.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>Sends every message the outbox holds that is due now (as the background sender would), through the configured transport.</summary>
    public Task<int> SendMailAsync() => Services.GetRequiredService<Portal.Email.OutboxSender>().SendDueAsync();

    /// <summary>The running host, for stopping it the way SIGTERM does.</summary>
    public IHost Host => _host ?? throw new InvalidOperationException("The host has not started yet.");

    private IHost? _host;

    /// <summary>An HTTP client that keeps cookies and does not follow redirects, like a careful browser.</summary>
    public Browser CreateBrowser() => new(this);

    /// <summary>A client already signed in through the real login form.</summary>
    public async Task<Browser> SignedInBrowserAsync(string email, string password)
    {
        var browser = CreateBrowser();
        var response = await browser.SignInAsync(email, password);
        Assert.Equal("/", response.RedirectTarget());
        Assert.True(browser.HasAuthCookie, $"signing in as {email} set no auth cookie");
        return browser;
    }

    public async Task<PortalUser> CreateUserAsync(string email, string password, bool admin = false)
    {
        await using var scope = Services.CreateAsyncScope();
        var (result, user) = await scope.ServiceProvider.GetRequiredService<UserAccounts>().CreateAsync(email, password, admin);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return user;
    }

    public async Task<PortalUser?> FindUserAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email);
    }

    public async Task<bool> IsAdminAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"no account {email}");
        return await users.IsInRoleAsync(user, Roles.Admin);
    }

    public int CountUsers()
    {
        using var scope = Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().Users.Count();
    }

    /// <summary>Runs an admin CLI verb against this application's store, with nothing on standard input.</summary>
    public Task<CliResult> RunCliAsync(params string[] args) => RunCliWithInputAsync("", args);

    /// <summary>Runs an admin CLI verb against this application's store, <paramref name="stdin"/> on its standard input.</summary>
    public async Task<CliResult> RunCliWithInputAsync(string stdin, params string[] args)
    {
        using var input = new StringReader(stdin);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await AdminCli.RunAsync(Services, args, input, stdout, stderr);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        // Host settings are read by the app's options, which bind lazily: these win over appsettings.
        builder.UseSetting("Store:DataFolder", DataFolder);
        // appsettings.Development.json (the factory's default environment) turns this on; tests opt in.
        builder.UseSetting("Accounts:FirstUserBecomesAdmin", "false");
        builder.UseSetting("Accounts:WelcomeCreditsUsd", "0");
        // Tests sign up and create keys everywhere; the tests of email verification turn it on.
        builder.UseSetting("Accounts:RequireConfirmedEmail", "false");
        // Tests make admins everywhere; the tests of the admins' second factor turn it on.
        builder.UseSetting("Accounts:RequireTwoFactorForAdmins", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<LogCapture>(null, CaptureLogLevel);
        });
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<IStartupFilter>(new RemoteIpFilter(this));
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            if (!UsesStoredKeyRing)
            {
                // Keys in memory: parallel test hosts must not share (or race on) the user's key folder.
                services.AddSingleton<IDataProtectionProvider, EphemeralDataProtectionProvider>();
            }

            TestServices?.Invoke(services);
        });
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        _host = base.CreateHost(builder);
        return _host;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        // The base class calls this twice when disposed synchronously, hence the existence check.
        if (disposing && Directory.Exists(DataFolder))
        {
            // Pooled connections keep the file open, which matters on Windows.
            SqliteConnection.ClearAllPools();
            Directory.Delete(DataFolder, recursive: true);
        }
    }
}

/// <summary>Runs first in the pipeline and sets the connection's remote address, as a real server would.</summary>
internal sealed class RemoteIpFilter(PortalApplication app) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => builder =>
    {
        builder.Use((http, nextMiddleware) =>
        {
            if (app.RemoteIp is { } ip)
            {
                http.Connection.RemoteIpAddress = ip;
            }

            return nextMiddleware(http);
        });
        next(builder);
    };
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);
