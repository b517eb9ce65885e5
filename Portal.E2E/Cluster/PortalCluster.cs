using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Cluster;

/// <summary>An account with credits and one API key, made through the admin CLI.</summary>
public sealed record ApiAccount(Account Account, string Key);

/// <summary>
/// Several built Portal processes on free loopback ports sharing one fresh PostgreSQL database — a
/// deployment behind a load balancer, minus the load balancer. The CLI runs against the same store.
/// </summary>
public sealed partial class PortalCluster : IAsyncDisposable
{
    private PortalCluster(ClusterDatabase database, IReadOnlyList<PortalServer> instances)
    {
        Database = database;
        Instances = instances;
    }

    public ClusterDatabase Database { get; }

    public IReadOnlyList<PortalServer> Instances { get; }

    /// <param name="settings">Environment variables for every instance, over the cluster's own.</param>
    /// <param name="server">
    /// A server of the test's own; its instances get the connection string with Portal's own pool
    /// defaults (ADR 19). Without one, the shared test server, and a pool of 20 each.
    /// </param>
    public static async Task<PortalCluster> StartAsync(int instances, IReadOnlyDictionary<string, string>? settings = null, PostgresServer? server = null)
    {
        var database = server is null ? new ClusterDatabase() : new ClusterDatabase(server);
        var environment = new Dictionary<string, string>
        {
            ["Store__Provider"] = "Postgres",
            ["Store__ConnectionString"] = server is null ? database.InstanceConnectionString(maxPoolSize: 20) : database.ConnectionString,
            // One secret for every instance and the CLI: they share the key ring it encrypts (ADR 14).
            ["DataProtection__KeyRingSecret"] = PostgresTestDatabase.KeyRingSecret,
            // These tests load and poll the API far beyond what a user may, and count a record per
            // request; the key-limit ceiling and the refusal limits have their own tests in Portal.Tests.
            ["ApiKeys__MaxRequestsPerMinute"] = "1000000",
            ["Gateway__RecordedRefusalsPerMinute"] = "1000000",
            ["Gateway__RefusalsPerMinute"] = "1000000",
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
        await Instances[0].CreateUserAsync(account.Email, account.Password);
        if (credits > 0)
        {
            await RunAdminAsync("grant-credits", "--email", account.Email, "--amount", credits.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reason", "cluster test");
        }

        return new ApiAccount(account, await CreateKeyAsync(account, rateLimitPerMinute));
    }

    /// <summary>
    /// Signs a new user up through the /signup form of the first instance, as a browser without
    /// JavaScript would (the page is a plain server-rendered form): cheaper than a CLI process, and
    /// it gets the welcome credits (Accounts:WelcomeCreditsUsd) that sign-ups get.
    /// </summary>
    public async Task<Account> SignUpAsync()
    {
        var account = Account.New("signup");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new() }) { BaseAddress = Instances[0].BaseAddress };
        var page = await http.GetStringAsync("/signup");
        // The signup form's own hidden fields: the page has other forms (sign-out, theme).
        var start = page.LastIndexOf("<form", page.IndexOf("name=\"_handler\" value=\"signup\"", StringComparison.Ordinal), StringComparison.Ordinal);
        var form = page[start..page.IndexOf("</form>", start, StringComparison.Ordinal)];
        var fields = HiddenInput().Matches(form).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        fields["Input.Email"] = account.Email;
        fields["Input.Password"] = account.Password;
        fields["Input.ConfirmPassword"] = account.Password;
        var response = await http.PostAsync("/signup", new FormUrlEncodedContent(fields));
        return response.StatusCode == HttpStatusCode.Redirect
            ? account
            : throw new InvalidOperationException($"Signing up {account.Email} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Creates a key through the CLI and returns it (printed once on stdout).</summary>
    public async Task<string> CreateKeyAsync(Account account, int? rateLimitPerMinute = null)
    {
        List<string> args = ["create-key", "--email", account.Email, "--name", "cluster"];
        if (rateLimitPerMinute is { } limit)
        {
            args.AddRange(["--rate-limit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        return ApiKey().Match(await RunAdminAsync([.. args])).Value;
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

    [GeneratedRegex(@"sk-portal-\S+")]
    private static partial Regex ApiKey();

    [GeneratedRegex(@"<input type=""hidden"" name=""(?<name>[^""]+)"" value=""(?<value>[^""]*)""")]
    private static partial Regex HiddenInput();
}
