using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Data;

namespace Portal.Benchmarks;

/// <summary>
/// The ledger writer's own work for a busy gateway (ADR 6): a batch of 8 holds and then the batch of
/// their 8 settlements (release, charge, usage record), each committed, on a real SQLite file through
/// the writer's connection, so what the statements cost is measured apart from the queue.
/// </summary>
[MemoryDiagnoser]
public class LedgerBenchmarks
{
    private const int Writes = 8;

    private string _tempFolder = "";
    private LedgerConnection? _connection;
    private string _keyId = "";
    private long _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _tempFolder = Directory.CreateTempSubdirectory("portal-bench-ledger-").FullName;
        var identity = new ServiceCollection().Configure<IdentityOptions>(o => o.Stores.SchemaVersion = IdentitySchemaVersions.Version3).BuildServiceProvider();
        var options = new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(_tempFolder, "portal.db")};Default Timeout=30")
            .UseApplicationServiceProvider(identity).Options;
        var factory = new Factory(options);
        await using (var db = factory.CreateDbContext())
        {
            await db.Database.MigrateAsync();
            // As the app runs its store (StoreExtensions).
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            db.Users.Add(new PortalUser { Id = "user-1", UserName = "bench@example.test", Email = "bench@example.test" });
            db.CreditBalances.Add(new CreditBalance { UserId = "user-1", BalanceMicros = long.MaxValue / 2 });
            await db.SaveChangesAsync();
        }

        var (key, _) = await new ApiKeyService(factory, TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new ApiKeyOptions()),
            new Audit.AuditLog(factory, TimeProvider.System)).CreateAsync("user-1", new NewApiKey("bench"));
        _keyId = key.Id;
        _connection = await LedgerConnection.OpenAsync(factory, syncCommits: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection?.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_tempFolder, recursive: true);
    }

    /// <summary>Two committed batches: 8 holds, then their 8 settlements (16 requests' writes, 2 transactions).</summary>
    [Benchmark(OperationsPerInvoke = Writes * 2)]
    public async Task LedgerBatchWrite()
    {
        var now = DateTime.UtcNow;
        var holds = new LedgerWrite[Writes];
        var settles = new LedgerWrite[Writes];
        for (var i = 0; i < Writes; i++)
        {
            var requestId = "req_" + _next++;
            holds[i] = new HoldWrite("user-1", _keyId, requestId, 20_000, now, "instance-1");
            var record = new UsageRecord
            {
                RequestId = requestId, UserId = "user-1", ApiKeyId = _keyId, ModelId = "glm-5", Upstream = "1:glm-5", PromptTokens = 120,
                CompletionTokens = 256, Stream = true, LatencyMs = 850, TimeToFirstTokenMs = 210, Status = 200,
                Provenance = Provenance.Reported, CreatedAt = now, InputPriceMicros = 1_500_000, OutputPriceMicros = 5_000_000,
            };
            settles[i] = new SettleWrite(new Settlement("user-1", _keyId, requestId, 20_000, 1_460), record, now);
        }

        await _connection!.RunAsync(holds);
        await _connection.RunAsync(settles);
    }

    private sealed class Factory(DbContextOptions<SqlitePortalDbContext> options) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() => new SqlitePortalDbContext(options);
    }
}
