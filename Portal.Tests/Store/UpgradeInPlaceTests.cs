using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Data;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Store;

/// <summary>
/// Upgrade in place: a store made and used by the .NET 8 release (Fixtures/README.md) is loaded as
/// it was left, then today's Portal starts on it and migrates it. Everything a customer or an auditor
/// relies on must come through unchanged and keep working. The derived classes choose the provider.
/// </summary>
public abstract class UpgradeInPlaceTests : IAsyncLifetime
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Store", "Fixtures");

    private PortalApplication? _app;

    /// <summary>The provider's name in expected.json.</summary>
    protected abstract string Provider { get; }

    /// <summary>What the release left in the store, from expected.json.</summary>
    protected ReleaseFacts Release { get; private set; } = null!;

    protected PortalApplication App => _app ?? throw new InvalidOperationException("the store is not set up yet");

    /// <summary>Makes a store holding <paramref name="dump"/>, and a Portal (not yet started) on it; null when the provider's tests don't run here.</summary>
    protected abstract Task<PortalApplication?> CreateUpgradedAppAsync(string dump, Dictionary<string, string?> settings);

    public async Task InitializeAsync()
    {
        await using (var json = File.OpenRead(Path.Combine(FixtureFolder, "expected.json")))
        {
            var expected = await JsonSerializer.DeserializeAsync<JsonObject>(json);
            Release = expected!["providers"]![Provider].Deserialize<ReleaseFacts>(JsonSerializerOptions.Web)!;
        }

        var dump = await File.ReadAllTextAsync(Path.Combine(FixtureFolder, Release.Dump));
        // The simulated upstream answers at once: the completion is about billing, not pacing.
        _app = await CreateUpgradedAppAsync(dump, new() { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });
        if (_app is null)
        {
            return;
        }

        // Starting the host migrates the store. The test clock starts on a fixed day before the
        // fixture was made; what happens after the upgrade should come after what happened before
        // (rate-limit windows and key expiries are compared with it).
        var lastAct = await App.InStoreAsync(db => db.AuditEntries.OrderByDescending(e => e.Id).Select(e => e.At).FirstAsync());
        App.Time.Advance(lastAct.AddDays(1) - App.Time.GetUtcNow().UtcDateTime);
    }

    public virtual async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public virtual async Task ADatabaseFromTheNet8ReleaseMigratesWithBalancesKeysAndAuditIntact()
    {
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

        // The release's history is kept and today's migrations, Identity schema 3 among them, follow it.
        var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(Release.Migrations, applied.Take(Release.Migrations.Count));
        Assert.Contains(applied.Skip(Release.Migrations.Count), m => m.EndsWith("_IdentitySchema3", StringComparison.Ordinal));
        Assert.Equal(0, await db.UserPasskeys.CountAsync()); // throws if the table is missing

        // Balances: as the release left them, and still the sum of each user's ledger.
        Assert.Equal(Release.Users.Count, await db.Users.CountAsync());
        var balances = await db.CreditBalances.ToDictionaryAsync(b => b.UserId, b => b.BalanceMicros);
        var ledgers = await db.Ledger.GroupBy(e => e.UserId)
            .Select(g => new { UserId = g.Key, Sum = g.Sum(e => e.AmountMicros), Count = g.Count() }).ToDictionaryAsync(l => l.UserId);
        foreach (var user in Release.Users)
        {
            Assert.Equal((user.Email, user.BalanceMicros), (user.Email, balances[user.Id]));
            Assert.Equal((user.Email, user.BalanceMicros, user.LedgerEntries), (user.Email, ledgers[user.Id].Sum, ledgers[user.Id].Count));
        }

        Assert.Equal(Release.Counts.LedgerEntries, await db.Ledger.CountAsync());
        Assert.Equal(Release.Counts.LedgerEntriesByKind.OrderBy(k => k.Key),
            (await db.Ledger.GroupBy(e => e.Kind).Select(g => new { g.Key, Count = g.Count() }).ToListAsync()).Select(g => KeyValuePair.Create(g.Key, g.Count)).OrderBy(k => k.Key));
        Assert.Equal(Release.Counts.UsageRecords, await db.UsageRecords.CountAsync());
        Assert.Equal(Release.Counts.UsageRecordsByStatus.OrderBy(s => s.Key),
            (await db.UsageRecords.GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync()).Select(g => KeyValuePair.Create(g.Key.ToString(), g.Count)).OrderBy(s => s.Key));

        // Passwords: the release's hashes still verify, through the real sign-in form; roles kept.
        foreach (var user in Release.Users)
        {
            using var browser = await App.SignedInBrowserAsync(user.Email, user.Password);
            Assert.Equal((user.Email, user.Role == "Admin"), (user.Email, await App.IsAdminAsync(user.Email)));
        }

        // Keys: stored hashes unchanged and still what today's code computes; each live key calls the
        // real API and sees its owner's balance, the revoked one is still refused.
        var storedKeys = await db.ApiKeys.ToDictionaryAsync(k => k.Id);
        Assert.Equal(Release.Keys.Count, storedKeys.Count);
        foreach (var key in Release.Keys)
        {
            var stored = storedKeys[key.Id];
            Assert.Equal((key.Name, key.Hash, key.Revoked, key.SpentMicros), (stored.Name, stored.Hash, stored.RevokedAt is not null, stored.SpentMicros));
            Assert.Equal(key.Hash, ApiKeyService.HashOf(key.Plaintext));

            using var client = App.ApiClient(key.Plaintext);
            using var response = await client.GetAsync("/api/v1/credits");
            if (key.Revoked)
            {
                Assert.Equal((key.Name, HttpStatusCode.Unauthorized), (key.Name, response.StatusCode));
                continue;
            }

            Assert.Equal((key.Name, HttpStatusCode.OK), (key.Name, response.StatusCode));
            var credits = await response.Content.ReadFromJsonAsync<JsonObject>();
            var owner = Release.Users.Single(u => u.Email == key.Email);
            Assert.Equal((key.Name, Money.ToUsd(owner.BalanceMicros)), (key.Name, credits!["data"]!["balance"]!.GetValue<decimal>()));
        }

        // The audit chain: every link as written, verified end to end, and continued by the sign-ins above.
        Assert.Equal(new AuditVerification(Release.Counts.AuditEntries + Release.Users.Count, null, null), await App.Services.GetRequiredService<AuditLog>().VerifyAsync());
        var chain = await db.AuditEntries.OrderBy(e => e.Id).Select(e => new AuditFact(e.Id, e.Hash)).ToListAsync();
        Assert.Equal(Release.Audit.Entries, chain.Take(Release.Counts.AuditEntries));
        Assert.Equal(Release.Audit.LastHash, chain[Release.Counts.AuditEntries - 1].Hash);
        // Accounts from before verification count as verified (ADR 23): their keys keep working.
        Assert.True(await db.Users.AllAsync(u => u.EmailConfirmed));

        // Upstream keys: still decrypted by the key ring the release stored.
        var protector = App.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose);
        var upstreams = await db.ModelUpstreams.ToDictionaryAsync(u => u.Id);
        Assert.Equal(Release.Upstreams.Count, upstreams.Count);
        foreach (var upstream in Release.Upstreams)
        {
            var stored = upstreams[upstream.Id];
            Assert.Equal((upstream.Model, upstream.UpstreamModel, upstream.BaseUrl), (stored.ModelId, stored.UpstreamModel, stored.BaseUrl));
            Assert.Equal(upstream.ApiKey, protector.Unprotect(stored.ProtectedApiKey!));
        }

        // ...whose keys the release stored in the clear are now encrypted in place (ADR 14).
        var keyRing = await db.DataProtectionKeys.Select(k => k.Xml).ToListAsync();
        Assert.NotEmpty(keyRing);
        Assert.All(keyRing, xml => Assert.Empty(XElement.Parse(xml).Descendants("masterKey")));
    }

    [Fact]
    public virtual async Task AfterTheUpgradeAnOldKeyIsBilledForANewCompletionAndTheAuditChainGrowsFromItsLastHash()
    {
        var ada = Release.Users.Single(u => u.Email == "ada@fixture.test");
        var laptop = Release.Keys.Single(k => k.Email == ada.Email && k.Name == "laptop");

        var completion = await App.OpenAiChat(laptop.Plaintext).CompleteChatAsync(new UserChatMessage("Hello after the upgrade"));

        Assert.NotEmpty(completion.Value.Content[0].Text);
        Assert.True(completion.GetRawResponse().Headers.TryGetValue("x-request-id", out var requestId));
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == requestId));
        Assert.Equal((200, ada.Id, laptop.Id), (record.Status, record.UserId, record.ApiKeyId));
        Assert.True(record.CostMicros > 0, "the completion was not billed");
        Assert.Equal(ada.BalanceMicros - record.CostMicros, await App.BalanceAsync(ada.Id));
        Assert.Equal(laptop.SpentMicros + record.CostMicros, await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == laptop.Id).Select(k => k.SpentMicros).SingleAsync()));
        await App.AssertLedgerConsistentAsync();

        var bob = Release.Users.Single(u => u.Email == "bob@fixture.test");
        var grant = await App.RunCliAsync("grant-credits", "--email", bob.Email, "--amount", "1", "--reason", "after the upgrade");

        Assert.Equal(0, grant.ExitCode);
        Assert.Equal(bob.BalanceMicros + Money.FromUsd(1), await App.BalanceAsync(bob.Id));
        var newest = await App.InStoreAsync(db => db.AuditEntries.OrderByDescending(e => e.Id).FirstAsync());
        Assert.Equal((AuditActions.CreditsGrant, $"user:{bob.Email}", Release.Audit.LastHash), (newest.Action, newest.Target, newest.PrevHash));
        Assert.Equal(new AuditVerification(Release.Counts.AuditEntries + 1, null, null), await App.Services.GetRequiredService<AuditLog>().VerifyAsync());
    }

    public sealed record ReleaseFacts(
        string Dump, IReadOnlyList<string> Migrations, IReadOnlyList<UserFact> Users, IReadOnlyList<KeyFact> Keys,
        CountFacts Counts, AuditFacts Audit, IReadOnlyList<UpstreamFact> Upstreams);

    public sealed record UserFact(string Id, string Email, string Password, string Role, long BalanceMicros, int LedgerEntries);

    public sealed record KeyFact(string Id, string Email, string Name, string Hash, string Plaintext, bool Revoked, long SpentMicros);

    public sealed record CountFacts(
        int LedgerEntries, Dictionary<string, int> LedgerEntriesByKind, int UsageRecords, Dictionary<string, int> UsageRecordsByStatus, int AuditEntries);

    public sealed record AuditFacts(string LastHash, IReadOnlyList<AuditFact> Entries);

    public sealed record AuditFact(long Id, string Hash);

    public sealed record UpstreamFact(int Id, string Model, string UpstreamModel, string BaseUrl, string ApiKey);
}

/// <summary>The release's SQLite store: its dump loaded into the file Portal's data folder names.</summary>
public sealed class SqliteUpgradeInPlaceTests : UpgradeInPlaceTests
{
    protected override string Provider => "sqlite";

    protected override async Task<PortalApplication?> CreateUpgradedAppAsync(string dump, Dictionary<string, string?> settings)
    {
        var app = new PortalApplication(new Dictionary<string, string?>(settings) { ["Store:Provider"] = "Sqlite" }) { UsesStoredKeyRing = true };
        // Unpooled, so nothing keeps the file open behind Portal's back.
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataFolder, "portal.db")};Pooling=False");
        await connection.OpenAsync();
        await using var load = new SqliteCommand(dump, connection);
        await load.ExecuteNonQueryAsync();
        return app;
    }
}

/// <summary>The release's PostgreSQL store: its dump loaded into a new database, dropped afterwards.</summary>
public sealed class PostgresUpgradeInPlaceTests : UpgradeInPlaceTests
{
    private PostgresTestDatabase? _database;

    protected override string Provider => "postgres";

    protected override async Task<PortalApplication?> CreateUpgradedAppAsync(string dump, Dictionary<string, string?> settings)
    {
        if (!PostgresTestDatabase.TestsRun)
        {
            return null;
        }

        _database = new PostgresTestDatabase();
        await _database.CreateAsync();
        // Unpooled: the dump's SET commands must not linger on a connection Portal might reuse.
        await using (var connection = new NpgsqlConnection(_database.ConnectionString + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var load = new NpgsqlCommand(dump, connection);
            await load.ExecuteNonQueryAsync();
        }

        return new PortalApplication(settings.Concat(_database.StoreSettings()).ToDictionary()) { UsesStoredKeyRing = true };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [PostgresFact]
    public override Task ADatabaseFromTheNet8ReleaseMigratesWithBalancesKeysAndAuditIntact() => base.ADatabaseFromTheNet8ReleaseMigratesWithBalancesKeysAndAuditIntact();

    [PostgresFact]
    public override Task AfterTheUpgradeAnOldKeyIsBilledForANewCompletionAndTheAuditChainGrowsFromItsLastHash() =>
        base.AfterTheUpgradeAnOldKeyIsBilledForANewCompletionAndTheAuditChainGrowsFromItsLastHash();
}
