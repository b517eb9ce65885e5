using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;

namespace Portal.Tests.Store;

public sealed class StoreOptionsTests
{
    [Fact]
    public void PostgresConnectionsPrepareHotStatementsUnlessTheOperatorSaysOtherwise()
    {
        var plain = Configured(StoreProvider.Postgres, "Host=db.internal;Username=portal;Password=s3cret;Database=portal");
        var off = Configured(StoreProvider.Postgres, "Host=db.internal;Database=portal;Max Auto Prepare=0");
        var sqlite = Configured(StoreProvider.Sqlite, "Data Source=/tmp/portal.db");
        var malformed = Configured(StoreProvider.Postgres, "Host=db.internal;=oops");

        var builder = new NpgsqlConnectionStringBuilder(plain);
        Assert.Equal((64, "db.internal", "portal", "s3cret"), (builder.MaxAutoPrepare, builder.Host, builder.Username, builder.Password));
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(off).MaxAutoPrepare);
        Assert.Equal("Data Source=/tmp/portal.db", sqlite);
        Assert.Equal("Host=db.internal;=oops", malformed); // left as given: Npgsql names the fault when it connects
    }

    /// <summary>The connection string every part of Portal reads (store, rate limiter, stale-hold sweep): one pool.</summary>
    private static string? Configured(StoreProvider provider, string connectionString)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Provider"] = provider.ToString(),
            ["Store:ConnectionString"] = connectionString,
        });
        builder.AddPortalStore();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<StoreOptions>>().Value.ConnectionString;
    }
}
