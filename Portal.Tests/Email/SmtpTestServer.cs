using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MimeKit;

namespace Portal.Tests.Email;

/// <summary>
/// A real SMTP server for a test: Debian's aiosmtpd (<c>python3-aiosmtpd</c>, installed by
/// scripts/test-services.sh) on a free loopback port, delivering into a Maildir the test reads with
/// MimeKit. It can be stopped and started again on the same port, to be an outage. Linked into
/// Portal.E2E as well.
/// </summary>
public sealed partial class SmtpTestServer : IAsyncDisposable
{
    private const string Python = "/usr/bin/python3";
    private Process? _process;

    private SmtpTestServer(int port) => Port = port;

    public int Port { get; }

    // aiosmtpd's Maildir makes its folders only when the path does not exist yet.
    private readonly string _folder = Directory.CreateTempSubdirectory("portal-smtp-").FullName;

    public string Maildir => Path.Combine(_folder, "maildir");

    /// <summary>The settings that send a Portal's mail here.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Email:SmtpHost"] = "127.0.0.1",
        ["Email:SmtpPort"] = Port.ToString(),
        ["Email:Security"] = "None",
    };

    /// <summary>A server on a free port, not started yet (an SMTP server that is down).</summary>
    public static SmtpTestServer Create()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new SmtpTestServer(port);
    }

    public static async Task<SmtpTestServer> StartNewAsync()
    {
        var server = Create();
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing; run the tests through scripts/test-services.sh, which installs python3-aiosmtpd.");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}", "-c", "aiosmtpd.handlers.Mailbox", Maildir })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        // Ready when it accepts a connection: a bound on waiting, not a delay.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"aiosmtpd did not start on port {Port}: {await _process.StandardError.ReadToEndAsync()}");
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Every message delivered so far, oldest first.</summary>
    public IReadOnlyList<MimeMessage> Messages() =>
        new[] { "new", "cur" }.Select(d => Path.Combine(Maildir, d)).Where(Directory.Exists)
            .SelectMany(Directory.GetFiles).Select(f => (File: f, Time: File.GetLastWriteTimeUtc(f))).OrderBy(f => f.Time)
            .Select(f => MimeMessage.Load(f.File)).ToList();

    /// <summary>The messages delivered to <paramref name="address"/>.</summary>
    public IReadOnlyList<MimeMessage> MessagesTo(string address) =>
        Messages().Where(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, address, StringComparison.OrdinalIgnoreCase))).ToList();

    /// <summary>The one link in <paramref name="message"/>'s text.</summary>
    public static Uri LinkIn(MimeMessage message) => new(Link().Matches(message.TextBody ?? "").Single().Value);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}
