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

    [Fact]
    public void PostgresPoolIsBoundedAndWaitsBrieflyUnlessTheOperatorSaysOtherwise()
    {
        var plain = new NpgsqlConnectionStringBuilder(Configured(StoreProvider.Postgres, "Host=db.internal;Database=portal"));
        var own = new NpgsqlConnectionStringBuilder(Configured(StoreProvider.Postgres, "Host=db.internal;Database=portal;MaxPoolSize=50;timeout=2"));
        var spelledOut = new NpgsqlConnectionStringBuilder(Configured(StoreProvider.Postgres, "Host=db.internal;Database=portal;Maximum Pool Size=7"));

        // Npgsql's own defaults are 100 connections, a default server's whole max_connections, and 15 s.
        Assert.Equal((20, 5), (plain.MaxPoolSize, plain.Timeout));
        Assert.Equal((50, 2), (own.MaxPoolSize, own.Timeout));
        Assert.Equal((7, 5), (spelledOut.MaxPoolSize, spelledOut.Timeout));
    }

    [Fact]
    public void ALeaseRenewedTooRarelyToOutliveAPauseIsRefusedNamingBothSettings()
    {
        var options = new StoreOptions { LeaseSeconds = 30, LeaseRenewSeconds = 11 };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        var error = Assert.Single(errors);
        Assert.Contains("Store:LeaseRenewSeconds (11)", error.ErrorMessage);
        Assert.Contains("Store:LeaseSeconds (30)", error.ErrorMessage);
        Assert.Empty(new StoreOptions().Validate(new System.ComponentModel.DataAnnotations.ValidationContext(new StoreOptions())));
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
