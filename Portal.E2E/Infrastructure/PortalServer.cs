using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace Portal.E2E.Infrastructure;

/// <summary>
/// The built Portal executable running as a child process on a free loopback port, over a fresh
/// SQLite store in a temporary folder (or the store <c>settings</c> name) — the same binary and
/// start-up path an operator uses.
/// </summary>
public sealed class PortalServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    private readonly string _executable;
    private readonly string _dataFolder;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private PortalServer(string executable, string dataFolder, Uri baseAddress, IReadOnlyDictionary<string, string> settings)
    {
        _executable = executable;
        _dataFolder = dataFolder;
        _settings = settings;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The server's data folder (its SQLite file, and the outbox's .eml files without an SMTP server).</summary>
    public string DataFolder => _dataFolder;

    /// <summary>Everything the server wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Creates the store folder; <see cref="StartAsync"/> serves it. Commands may run before or after.</summary>
    /// <param name="settings">Environment variables (<c>Section__Key</c>) over the defaults, e.g. a PostgreSQL store.</param>
    public static PortalServer Create(IReadOnlyDictionary<string, string>? settings = null)
    {
        var executable = Path.Combine(OutputDirectory(), "Portal");
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException(
                $"The built Portal is not at {executable}. Build it with the same configuration as the tests " +
                "(dotnet test Portal.E2E builds it first).", executable);
        }

        var dataFolder = Directory.CreateTempSubdirectory("portal-e2e-").FullName;
        return new PortalServer(executable, dataFolder, new Uri($"http://127.0.0.1:{FreePort()}"), settings ?? new Dictionary<string, string>());
    }

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server (again, after <see cref="KillAsync"/>, on the same port and store) and waits for /healthz.</summary>
    public async Task StartAsync()
    {
        _process?.Dispose();
        var start = StartInfo("--urls", BaseAddress.ToString().TrimEnd('/'));
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(StartTimeout);
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            // A readiness probe, not a retry: the port only answers once Kestrel is listening.
            do
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"Portal exited with code {_process.ExitCode} before it answered /healthz. Its output:\n{Output}");
                }

                if (await IsHealthyAsync(http, timeout.Token))
                {
                    return;
                }
            }
            while (await poll.WaitForNextTickAsync(timeout.Token));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Portal did not answer GET /healthz with 200 within {StartTimeout.TotalSeconds:0} s. Its output:\n{Output}");
        }
    }

    /// <summary>Runs <c>Portal admin …</c> against this server's store; throws with its output unless it exits 0.</summary>
    public Task<string> RunAdminAsync(params string[] args) => RunAdminAsync(args, standardInput: null);

    /// <summary>Creates an account with <c>Portal admin create-user</c>, the password piped in as an operator's script would.</summary>
    public Task<string> CreateUserAsync(string email, string password, bool admin = false) =>
        RunAdminAsync(["create-user", "--email", email, "--password-stdin", .. admin ? new[] { "--admin" } : []], standardInput: password);

    private async Task<string> RunAdminAsync(string[] args, string? standardInput)
    {
        var start = StartInfo(["admin", .. args]);
        start.RedirectStandardInput = true;
        using var process = new Process { StartInfo = start };
        process.Start();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteLineAsync(standardInput);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CliTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'Portal admin {args.FirstOrDefault()}' did not finish within {CliTimeout.TotalSeconds:0} s.");
        }

        var output = await stdout + await stderr;
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"'Portal admin {args.FirstOrDefault()}' exited with {process.ExitCode}:\n{output}");
    }

    /// <summary>The most memory the running process has had resident since it started (Linux's VmHWM), in bytes.</summary>
    public long PeakResidentBytes()
    {
        var status = File.ReadAllLines($"/proc/{_process?.Id ?? throw new InvalidOperationException("Portal is not running.")}/status");
        var line = status.Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Ends the process with SIGKILL, as a crash or the OOM killer would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            _process = null;
        }

        if (Directory.Exists(_dataFolder))
        {
            Directory.Delete(_dataFolder, recursive: true);
        }
    }

    private ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo(_executable)
        {
            // Portal finds appsettings.json and the static web assets manifest beside itself.
            WorkingDirectory = Path.GetDirectoryName(_executable)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Store__Provider"] = "Sqlite";
        start.Environment["Store__DataFolder"] = _dataFolder;
        // Journeys sign up and create keys at once; the verification journey turns this on and reads the mail.
        start.Environment["Accounts__RequireConfirmedEmail"] = "false";
        // Admin journeys use an admin made by the CLI, without a second factor.
        start.Environment["Accounts__RequireTwoFactorForAdmins"] = "false";
        // A steady pace, slow enough that a person (or a test) can press Stop mid-reply.
        start.Environment["Simulation__TokensPerSecond"] = "40";
        foreach (var (name, value) in _settings)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static async Task<bool> IsHealthyAsync(HttpClient http, CancellationToken cancellation)
    {
        try
        {
            using var response = await http.GetAsync("/healthz", cancellation);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return false; // this one request timed out; the overall deadline has not passed
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Recorded at build time by Portal.E2E.csproj, relative to this assembly.</summary>
    private static string OutputDirectory()
    {
        var relative = typeof(PortalServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "PortalOutputDirectory").Value!;
        return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, relative));
    }

    /// <summary>A loopback port nothing listens on now (for the servers the tests start).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
