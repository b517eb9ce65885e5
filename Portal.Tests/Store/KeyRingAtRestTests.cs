using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Gateway;
using Portal.Tests.Docs;
using Portal.Tests.Gateway;

namespace Portal.Tests.Store;

/// <summary>
/// The Data Protection key ring that encrypts provider keys (and signs cookies) is kept in the store,
/// encrypted with a secret that is not (ADR 14): a backup of the database alone decrypts nothing.
/// </summary>
public sealed class KeyRingAtRestTests
{
    private const string ProviderKey = "sk-provider-key-kept-from-backups-0123";

    [Fact]
    public async Task ACopyOfTheDatabaseAloneCannotDecryptAProviderKey()
    {
        var (copy, protectedKey, keyFile) = await StoreWithAProviderKeyAsync();
        try
        {
            var rows = await KeyRingRowsAsync(copy);
            Assert.NotEmpty(rows);
            Assert.All(rows, xml => Assert.Empty(XElement.Parse(xml).Descendants("masterKey")));

            // Data Protection itself, given every key element the copy holds and nothing else.
            var services = new ServiceCollection();
            services.AddDataProtection().SetApplicationName("Portal");
            services.Configure<KeyManagementOptions>(o => o.XmlRepository = new RowsRepository(rows));
            await using var provider = services.BuildServiceProvider();
            var protector = provider.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose);

            Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(protectedKey));
            Assert.True(File.Exists(keyFile), $"no key ring secret at {keyFile}");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public async Task ACopyOfTheDatabaseWithItsSecretDecryptsAProviderKey()
    {
        var (copy, protectedKey, keyFile) = await StoreWithAProviderKeyAsync();
        await using var restored = new PortalApplication(new Dictionary<string, string?> { ["DataProtection:KeyRingSecretFile"] = keyFile }) { UsesStoredKeyRing = true };
        File.Move(copy, Path.Combine(restored.DataFolder, "portal.db"));

        var protector = restored.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose);

        Assert.Equal(ProviderKey, protector.Unprotect(protectedKey));
        Assert.False(File.Exists(Path.Combine(restored.DataFolder, "keyring.key")), "a second secret was made beside the restored copy");
    }

    [Fact]
    public async Task StartingOnACopyOfTheDatabaseWithoutItsSecretOrWithAnotherIsAConfigurationError()
    {
        var (copy, _, keyFile) = await StoreWithAProviderKeyAsync();
        var folder = Directory.CreateTempSubdirectory("portal-restored-").FullName;
        try
        {
            File.Move(copy, Path.Combine(folder, "portal.db"));

            var missing = await RunPortalAsync(folder, []);
            Assert.True(missing.ExitCode == 3, missing.ToString());
            Assert.Contains("DataProtection:KeyRingSecret", missing.Stderr);
            Assert.False(File.Exists(Path.Combine(folder, "keyring.key")), "a new secret was made although the store's key ring is encrypted");

            var wrong = await RunPortalAsync(folder, new() { ["DataProtection__KeyRingSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });
            Assert.True(wrong.ExitCode == 3, wrong.ToString());
            Assert.Contains("DataProtection:KeyRingSecret", wrong.Stderr);

            var right = await RunPortalAsync(folder, new() { ["DataProtection__KeyRingSecretFile"] = keyFile });
            Assert.True(right.ExitCode == 0, right.ToString());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task RotatingTheSecretReEncryptsTheKeyRingSoTheOldSecretCanGo()
    {
        var (copy, protectedKey, keyFile) = await StoreWithAProviderKeyAsync();
        var oldSecret = (await File.ReadAllTextAsync(keyFile)).Trim();
        var newSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        // Step 1 of the README's rotation: the new secret, and the old one as a previous secret.
        await using (var rotating = new PortalApplication(new Dictionary<string, string?>
        {
            ["DataProtection:KeyRingSecret"] = newSecret,
            ["DataProtection:PreviousKeyRingSecrets:0"] = oldSecret,
        }) { UsesStoredKeyRing = true })
        {
            File.Move(copy, Path.Combine(rotating.DataFolder, "portal.db"));
            Assert.Equal(ProviderKey, rotating.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose).Unprotect(protectedKey));
            copy = await CopyOfDatabaseAsync(rotating);
        }

        // Step 2: the new secret alone opens everything.
        await using var rotated = new PortalApplication(new Dictionary<string, string?> { ["DataProtection:KeyRingSecret"] = newSecret }) { UsesStoredKeyRing = true };
        File.Move(copy, Path.Combine(rotated.DataFolder, "portal.db"));

        Assert.Equal(ProviderKey, rotated.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose).Unprotect(protectedKey));
        var sealedBy = await rotated.InStoreAsync(async db => (await db.DataProtectionKeys.Select(k => k.Xml).ToListAsync())
            .SelectMany(xml => XElement.Parse(xml).Descendants(XName.Get("sealed", "urn:portal:key-ring")))
            .Select(e => (string?)e.Attribute("secret")).Distinct().ToList());
        Assert.Single(sealedBy);
    }

    /// <summary>
    /// A Portal on its embedded defaults stores a provider key; returns a consistent copy of its
    /// database (outside its data folder), the key as stored, and where the secret was written.
    /// </summary>
    private static async Task<(string Copy, string ProtectedKey, string KeyFile)> StoreWithAProviderKeyAsync()
    {
        var keyFile = Path.Combine(Directory.CreateTempSubdirectory("portal-secret-").FullName, "keyring.key");
        await using var app = new PortalApplication { UsesStoredKeyRing = true };
        var variable = $"PORTAL_TEST_PROVIDER_KEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, ProviderKey);
        var added = await app.RunCliAsync("add-upstream", "--model", "glm-5", "--url", "https://api.provider.test/v1", "--upstream-model", "glm-5", "--key-env", variable);
        Environment.SetEnvironmentVariable(variable, null);
        Assert.True(added.ExitCode == 0, added.Stderr);
        var protectedKey = await app.InStoreAsync(db => db.ModelUpstreams.Select(u => u.ProtectedApiKey!).SingleAsync());

        var copy = await CopyOfDatabaseAsync(app);

        // The secret is kept (as an operator keeps it apart from the backups); the data folder goes with the app.
        var secret = Path.Combine(app.DataFolder, "keyring.key");
        if (File.Exists(secret))
        {
            File.Copy(secret, keyFile);
        }

        return (copy, protectedKey, keyFile);
    }

    /// <summary>A consistent copy of a running Portal's SQLite database, outside its data folder: a backup.</summary>
    private static async Task<string> CopyOfDatabaseAsync(PortalApplication app)
    {
        var copy = Path.Combine(Path.GetTempPath(), $"portal-copy-{Guid.NewGuid():N}.db");
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataFolder, "portal.db")};Pooling=False");
        await connection.OpenAsync();
        await using var vacuum = new SqliteCommand($"VACUUM INTO '{copy}'", connection);
        await vacuum.ExecuteNonQueryAsync();
        return copy;
    }

    private static async Task<List<string>> KeyRingRowsAsync(string database)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False;Mode=ReadOnly");
        await connection.OpenAsync();
        await using var query = new SqliteCommand("SELECT Xml FROM DataProtectionKeys", connection);
        await using var reader = await query.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary><c>Portal admin list-users</c> as a separate process on <paramref name="dataFolder"/>, as an operator would run it.</summary>
    private static Task<ExternalCommand.Result> RunPortalAsync(string dataFolder, Dictionary<string, string> environment)
    {
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["Store__Provider"] = "Sqlite";
        environment["Store__DataFolder"] = dataFolder;
        return ExternalCommand.RunAsync("dotnet", [typeof(Program).Assembly.Location, "admin", "list-users"], dataFolder, environment);
    }

    private sealed class RowsRepository(IReadOnlyList<string> rows) : IXmlRepository
    {
        private readonly List<XElement> _elements = [.. rows.Select(XElement.Parse)];

        public IReadOnlyCollection<XElement> GetAllElements() => _elements;

        public void StoreElement(XElement element, string friendlyName) => _elements.Add(element);
    }
}
