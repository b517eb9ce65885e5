using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Journeys;

/// <summary>
/// Bodies only a real server sees — broken chunked framing, a chunked body past the size limit, a
/// body dribbled in byte by byte — sent over raw sockets to the built Portal. Each gets a bounded 4xx
/// (the OpenAI envelope where Portal answers), never a 5xx, and Portal keeps serving.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class HostileBodyTests(PortalFixture portal)
{
    [Fact]
    public async Task BrokenChunkedFramingIsA400InTheEnvelope()
    {
        var key = await KeyAsync();

        var (status, body) = await SendAsync(key, "Transfer-Encoding: chunked", async stream =>
            await stream.WriteAsync(Encoding.ASCII.GetBytes("{\"model\"\r\n1\r\nx\r\n0\r\n\r\n")));

        Assert.Equal(400, status);
        Assert.Equal("invalid_request_error", Envelope(body)["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task AChunkedBodyPastTheLimitIsRefusedWithoutReadingItAll()
    {
        var key = await KeyAsync();
        var megabyte = new byte[1024 * 1024];
        Array.Fill(megabyte, (byte)'a');

        var (status, body) = await SendAsync(key, "Transfer-Encoding: chunked", async stream =>
        {
            await Chunk(stream, Encoding.ASCII.GetBytes("""{"model":"glm-5","messages":[{"role":"user","content":" """));
            for (var i = 0; i < 40; i++)
            {
                await Chunk(stream, megabyte); // stops at the first write after Portal closes the request
            }
        });

        Assert.Equal(413, status);
        Assert.Equal("request_too_large", Envelope(body)["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ASlowlorisBodyIsCutOffWithinSeconds()
    {
        var key = await KeyAsync();
        var (status, _) = await SendAsync(key, "Content-Length: 10000", async stream =>
        {
            for (var i = 0; i < 60; i++)
            {
                await stream.WriteAsync("a"u8.ToArray());
                await Task.Delay(500);
            }
        });

        // Kestrel's minimum body rate (240 B/s after a 5 s grace) ends it while the client still
        // dribbles; without it the request would wait for bytes that never come, and no answer.
        Assert.Equal(408, status);
        using var api = new HttpClient { BaseAddress = portal.Server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/healthz")).StatusCode);
    }

    private async Task<string> KeyAsync()
    {
        var user = await portal.CreateUserAsync();
        // With credit: an empty account's large body is refused before it is read (ADR 15), which is not what these test.
        await portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "1", "--reason", "hostile bodies");
        return KeyPattern().Match(await portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "hostile")).Value;
    }

    /// <summary>
    /// Sends a POST's head, then lets <paramref name="writeBody"/> write (a failed write means Portal
    /// has stopped reading, which is fine), and reads the answer until Portal closes the connection.
    /// </summary>
    private async Task<(int Status, string Body)> SendAsync(string key, string framing, Func<NetworkStream, Task> writeBody)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(portal.Server.BaseAddress.Host, portal.Server.BaseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /api/v1/chat/completions HTTP/1.1\r\nHost: {portal.Server.BaseAddress.Authority}\r\nAuthorization: Bearer {key}\r\n" +
                   $"Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        try
        {
            await writeBody(stream);
        }
        catch (IOException)
        {
            // Portal closed its side: it has answered, or is about to.
        }

        using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, reading.Token);
        }
        catch (IOException)
        {
            // A reset after the answer: what was read is the answer.
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        var status = StatusLine().Match(text);
        Assert.True(status.Success, $"no HTTP answer: '{text}'");
        return (int.Parse(status.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture), text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    private static async Task Chunk(NetworkStream stream, byte[] data)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"));
        await stream.WriteAsync(data);
        await stream.WriteAsync("\r\n"u8.ToArray());
    }

    /// <summary>The error object of a (possibly chunk-framed) JSON error body.</summary>
    private static JsonObject Envelope(string body) =>
        JsonNode.Parse(body[body.IndexOf('{', StringComparison.Ordinal)..(body.LastIndexOf('}') + 1)])!["error"]!.AsObject();

    [GeneratedRegex("sk-portal-[0-9A-Za-z]+")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^HTTP/1\\.1 (?<status>\\d{3}) ")]
    private static partial Regex StatusLine();
}
