using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.Alerts;
using Portal.Billing;
using Portal.Email;
using Portal.Tests.Admin;
using Portal.Tests.Email;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Alerts;

/// <summary>
/// The low-balance alert (ADR 26) through the real gateway (the OpenAI SDK as client) and a real SMTP
/// server, on SQLite and PostgreSQL: concurrent requests cross the threshold while sweeps race
/// (on PostgreSQL, the sweeps of two Portal instances on one database), and exactly one email leaves.
/// </summary>
public sealed class LowBalanceAlertTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Instant = new() { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" };
    private const long Threshold = 999_500; // $0.9995, just under the $1 granted: a few requests cross it
    private PostgresTestDatabase? _database;
    private SmtpTestServer _smtp = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpTestServer.StartNewAsync();
        if (PostgresTestDatabase.TestsRun)
        {
            _database = new PostgresTestDatabase();
        }
    }

    public async Task DisposeAsync()
    {
        await _smtp.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task ConcurrentRequestsCrossingTheThresholdSendExactlyOneEmailAndAGrantArmsItAgain()
    {
        await using var app = new PortalApplication(Settings());
        await OneEmailPerCrossingAsync(app, app);
    }

    [PostgresFact]
    public async Task ConcurrentRequestsCrossingTheThresholdSendExactlyOneEmailAndAGrantArmsItAgainOnPostgres()
    {
        await using var app = new PortalApplication(Settings(_database!.StoreSettings()));
        await app.CreateApiAccountAsync(); // the first instance migrates the database before the second starts
        await using var other = new PortalApplication(Settings(_database.StoreSettings()));
        await OneEmailPerCrossingAsync(app, other);
    }

    [Fact]
    public async Task ABalanceAlreadyBelowANewThresholdSendsNothingUntilAGrantLiftsItAndItFallsAgain()
    {
        await using var app = new PortalApplication(Settings());
        var account = await app.CreateApiAccountAsync(credits: 0.5m);
        var alerts = app.Service<LowBalanceAlerts>();

        await alerts.SetThresholdAsync(account.UserId, Money.FromUsd(1m));

        Assert.Equal(0, await alerts.CheckAsync());
        await app.Service<CreditsLedger>().GrantAsync(account.UserId, Money.FromUsd(1m), "top-up", actorId: null); // $1.50: armed
        Assert.Null((await alerts.GetAsync(account.UserId)).AlertedAt);
        await app.Service<CreditsLedger>().GrantAsync(account.UserId, -Money.FromUsd(0.6m), "adjustment", actorId: null); // $0.90: crossed by an admin's deduction
        Assert.Equal(1, await alerts.CheckAsync());
        await app.SendMailAsync();
        Assert.Single(_smtp.MessagesTo(await EmailOfAsync(app, account.UserId)));
    }

    private Dictionary<string, string?> Settings(Dictionary<string, string?>? store = null) =>
        Instant.Concat(_smtp.Settings()).Concat(store ?? []).ToDictionary();

    private async Task OneEmailPerCrossingAsync(PortalApplication app, PortalApplication other)
    {
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var email = await EmailOfAsync(app, account.UserId);
        var sweepers = new[] { app, other }.Distinct().Select(a => a.Service<LowBalanceAlerts>()).ToArray();
        await sweepers[0].SetThresholdAsync(account.UserId, Threshold);

        await SpendWhileSweepingAsync(app, account, sweepers, requests: 20);
        Assert.True(await app.BalanceAsync(account.UserId) < Threshold, "the requests did not cross the threshold");
        await SendAllMailAsync(app, other);
        var alert = Assert.Single(_smtp.MessagesTo(email));
        Assert.Equal("Your Portal balance is below $0.9995", alert.Subject);
        Assert.Contains("below the $0.9995 you asked to be told about", alert.TextBody);

        // Still below: more spending and more sweeps send nothing more.
        await SpendWhileSweepingAsync(app, account, sweepers, requests: 5);
        await SendAllMailAsync(app, other);
        Assert.Single(_smtp.MessagesTo(email));

        // Credits bring the balance back up to the threshold: armed again, and the next crossing mails again.
        var balance = await app.BalanceAsync(account.UserId);
        await app.Service<CreditsLedger>().GrantAsync(account.UserId, Threshold - balance + 300, "top-up", actorId: null);
        Assert.Null((await sweepers[0].GetAsync(account.UserId)).AlertedAt);
        Assert.Equal(0, await sweepers[0].CheckAsync());
        await SpendWhileSweepingAsync(app, account, sweepers, requests: 20);
        await SendAllMailAsync(app, other);
        Assert.Equal(2, _smtp.MessagesTo(email).Count);
        Assert.Equal(2, await app.InStoreAsync(db => db.OutboxMessages.CountAsync(m => m.Kind == LowBalanceAlerts.Kind)));
        await app.AssertLedgerConsistentAsync();
    }

    /// <summary>Concurrent requests through the SDK, with sweeps running in a loop on every instance until they are done, then once more each.</summary>
    private static async Task SpendWhileSweepingAsync(PortalApplication app, ApiAccount account, LowBalanceAlerts[] sweepers, int requests)
    {
        var chat = app.OpenAiChat(account.Key);
        var spending = Task.WhenAll(Enumerable.Range(0, requests).Select(_ => Task.Run(() =>
            chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 20 }))));
        var sweeping = sweepers.SelectMany(sweeper => Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!spending.IsCompleted)
            {
                await sweeper.CheckAsync();
            }

            await sweeper.CheckAsync();
        })));
        await Task.WhenAll(sweeping.Append(spending));
    }

    /// <summary>Sends what is due on each instance; waiting for a sender also waits out a send its background loop had begun.</summary>
    private static async Task SendAllMailAsync(params PortalApplication[] apps)
    {
        foreach (var app in apps.Distinct())
        {
            await app.SendMailAsync();
        }
    }

    private static Task<string> EmailOfAsync(PortalApplication app, string userId) =>
        app.InStoreAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email!).SingleAsync());
}
