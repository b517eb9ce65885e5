using System.Net.Http.Headers;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Cluster;

/// <summary>An account with credits and one API key, made through the admin CLI.</summary>
public sealed record ApiAccount(Account Account, string Key);

/// <summary>
/// Several built Portal processes on free loopback ports sharing one fresh PostgreSQL database — a
/// deployment behind a load balancer, minus the load balancer. The CLI runs against the same store.
/// </summary>
public sealed class PortalCluster : IAsyncDisposable
{
    private PortalCluster(ClusterDatabase database, IReadOnlyList<PortalServer> instances)
    {
        Database = database;
        Instances = instances;
    }

    public ClusterDatabase Database { get; }

    public IReadOnlyList<PortalServer> Instances { get; }

    /// <param name="settings">Environment variables for every instance, over the cluster's own.</param>
    public static async Task<PortalCluster> StartAsync(int instances, IReadOnlyDictionary<string, string>? settings = null)
    {
        var database = new ClusterDatabase();
        var environment = new Dictionary<string, string>
        {
            ["Store__Provider"] = "Postgres",
            ["Store__ConnectionString"] = database.InstanceConnectionString(maxPoolSize: 20),
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var cluster = new PortalCluster(database, [.. Enumerable.Range(0, instances).Select(_ => PortalServer.Create(environment))]);
        try
        {
            // All at once on an empty database, as an orchestrator starts them: they must sort out
            // among themselves who creates and migrates it.
            await Task.WhenAll(cluster.Instances.Select(i => i.StartAsync()));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public Task<string> RunAdminAsync(params string[] args) => Instances[0].RunAdminAsync(args);

    /// <summary>A user with <paramref name="credits"/> USD and a key, through the CLI as an operator would.</summary>
    public async Task<ApiAccount> CreateApiAccountAsync(decimal credits, int? rateLimitPerMinute = null)
    {
        var account = Account.New("api");
        await RunAdminAsync("create-user", "--email", account.Email, "--password", account.Password);
        if (credits > 0)
        {
            await RunAdminAsync("grant-credits", "--email", account.Email, "--amount", credits.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reason", "cluster test");
        }

        List<string> key = ["create-key", "--email", account.Email, "--name", "cluster"];
        if (rateLimitPerMinute is { } limit)
        {
            key.AddRange(["--rate-limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        var output = await RunAdminAsync([.. key]);
        return new ApiAccount(account, System.Text.RegularExpressions.Regex.Match(output, @"sk-portal-\S+").Value);
    }

    /// <summary>An HTTP client for one instance, carrying a key.</summary>
    public HttpClient ApiClient(int instance, string key) => new()
    {
        BaseAddress = Instances[instance].BaseAddress,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) },
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Every instance's output, for a failing test's message.</summary>
    public string Output => string.Join("\n", Instances.Select((instance, i) => $"--- instance {i} ---\n{instance.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in Instances)
        {
            await instance.DisposeAsync();
        }

        await Database.DisposeAsync();
    }
}
