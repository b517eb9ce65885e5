using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Cluster;

/// <summary>
/// Debian's nginx in the foreground, running the repository's deploy/nginx/portal.conf with only the
/// upstream servers and the listen port replaced, from a temporary folder of its own. Stopped by its
/// process id (with its workers) on dispose.
/// </summary>
public sealed partial class NginxProxy : IAsyncDisposable
{
    private const string Executable = "/usr/sbin/nginx";
    private readonly string _folder;
    private readonly Process _process;

    private NginxProxy(string folder, Process process, Uri baseAddress)
    {
        _folder = folder;
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string ErrorLog => File.Exists(Path.Combine(_folder, "error.log")) ? File.ReadAllText(Path.Combine(_folder, "error.log")) : "";

    public static async Task<NginxProxy> StartAsync(IEnumerable<Uri> instances)
    {
        if (!File.Exists(Executable))
        {
            throw new FileNotFoundException("nginx is not installed (scripts/test-services.sh installs Debian's package).", Executable);
        }

        var folder = Directory.CreateTempSubdirectory("portal-nginx-").FullName;
        // nginx's workers run as an unprivileged user when the tests run as root: let them in.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }
        var port = PortalServer.FreePort();
        var servers = string.Concat(instances.Select(i => $"    server {i.Host}:{i.Port} max_fails=3 fail_timeout=10s;\n"));
        var site = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "nginx", "portal.conf"));
        site = UpstreamServers().Replace(site, servers, 1);
        site = Listen().Replace(site, $"listen 127.0.0.1:{port};", 1);
        await File.WriteAllTextAsync(Path.Combine(folder, "portal.conf"), site);
        await File.WriteAllTextAsync(Path.Combine(folder, "nginx.conf"), $$"""
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log {{folder}}/access.log;
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                include {{folder}}/portal.conf;
            }
            """);

        var start = new ProcessStartInfo(Executable)
        {
            ArgumentList = { "-p", folder, "-c", Path.Combine(folder, "nginx.conf"), "-e", Path.Combine(folder, "error.log"), "-g", "daemon off;" },
            UseShellExecute = false,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var proxy = new NginxProxy(folder, process, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await proxy.WaitUntilServingAsync();
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true); // the master and its workers, by id
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A readiness probe: nginx answers once it listens, with Portal's /healthz once it reaches an instance.</summary>
    private async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_process.ExitCode}: {await _process.StandardError.ReadToEndAsync()}\n{ErrorLog}");
            }

            try
            {
                if ((await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"nginx did not relay /healthz within 20 s.\n{ErrorLog}");
    }


    /// <summary>The example servers of the upstream block.</summary>
    [GeneratedRegex(@"(^\s*server \d+\.\d+\.\d+\.\d+:\d+[^\n]*\n)+", RegexOptions.Multiline)]
    private static partial Regex UpstreamServers();

    [GeneratedRegex(@"listen 80;")]
    private static partial Regex Listen();
}
