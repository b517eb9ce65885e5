using System.Diagnostics;
using Npgsql;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Cluster;

/// <summary>
/// A PostgreSQL server of the test's own — Debian's binaries, a fresh data folder, a free loopback
/// port, the server's default settings unless the test names others — so a test may restart it or
/// fill its connection slots without touching the server the other tests share. As root (CI), the
/// server runs as the <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _bin;
    private readonly string _dataFolder;
    private readonly IReadOnlyDictionary<string, string> _settings;

    private PostgresServer(string bin, string dataFolder, int port, IReadOnlyDictionary<string, string> settings)
    {
        _bin = bin;
        _dataFolder = dataFolder;
        _settings = settings;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The superuser on the <c>postgres</c> database (trust on loopback: the server lives as long as the test).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    /// <summary>Creates the data folder and starts the server on a free port.</summary>
    /// <param name="settings">Server settings (<c>-c name=value</c>), e.g. <c>max_connections</c>.</param>
    public static async Task<PostgresServer> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var versions = Directory.GetDirectories("/usr/lib/postgresql").Select(Path.GetFileName).OrderBy(v => int.Parse(v!)).ToList();
        var bin = Path.Combine("/usr/lib/postgresql", versions[^1]!, "bin");
        var dataFolder = Directory.CreateTempSubdirectory("portal-pg-").FullName;
        if (IsRoot)
        {
            await RunAsync("chown", "postgres:postgres", dataFolder);
        }

        var server = new PostgresServer(bin, dataFolder, PortalServer.FreePort(), settings ?? new Dictionary<string, string>());
        await server.AsServerUserAsync("initdb", "-D", Path.Combine(dataFolder, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the stopped server again on the same port and data.</summary>
    public Task StartAgainAsync()
    {
        var options = string.Join(' ', new Dictionary<string, string>(_settings)
        {
            ["port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["listen_addresses"] = "127.0.0.1",
            ["unix_socket_directories"] = "''",
        }.Select(s => $"-c {s.Key}={s.Value}"));
        return AsServerUserAsync("pg_ctl", "start", "-w", "-D", DataPath, "-l", Path.Combine(_dataFolder, "server.log"), "-o", options);
    }

    /// <summary>A fast shutdown, as a restart does: sessions are ended and the server stops.</summary>
    public Task StopAsync() => AsServerUserAsync("pg_ctl", "stop", "-w", "-m", "fast", "-D", DataPath);

    /// <summary>The server's log, for a failing test's message.</summary>
    public string Log => File.Exists(Path.Combine(_dataFolder, "server.log")) ? File.ReadAllText(Path.Combine(_dataFolder, "server.log")) : "";

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await AsServerUserAsync("pg_ctl", "stop", "-w", "-m", "immediate", "-D", DataPath);
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        Directory.Delete(_dataFolder, recursive: true);
    }

    private string DataPath => Path.Combine(_dataFolder, "data");

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsServerUserAsync(string program, params string[] args) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. args])
            : RunAsync(Path.Combine(_bin, program), args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
        }
    }
}
