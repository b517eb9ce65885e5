using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

public sealed class StreamAbortTests : IDisposable
{
    // Paced, so the client can leave while the reply is still being generated.
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "50", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ClientThatLeavesMidStreamPaysForExactlyWhatItReceived()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"glm-5","messages":[{"role":"user","content":"Write at length."}],"max_tokens":400,"stream":true}""", Encoding.UTF8, "application/json"),
        };
        // The in-memory test server tells the app a client left when the client cancels its request
        // (a real server also notices a closed connection).
        using var leave = new CancellationTokenSource();
        var response = await _app.ApiClient(account.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        var contentEvents = 0;
        while (contentEvents < 5 && await reader.ReadLineAsync(leave.Token) is { } line)
        {
            contentEvents += line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal) ? 1 : 0;
        }

        leave.Cancel(); // the client leaves
        response.Dispose();

        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((Provenance.Partial, 499, "client_disconnected"), (record.Provenance, record.Status, record.ErrorCode));
        Assert.InRange(record.CompletionTokens, 5, 399);
        Assert.Equal(Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros), record.CostMicros);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ClientThatLeavesAtTheFinishChunkIsSettledAndCountedOnce()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var requestId = RequestIds.New(_app.Time);
        using var leave = new CancellationTokenSource();
        var sink = new LeavesAtFinishSink(leave);
        JsonNode body = JsonNode.Parse("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}""")!;

        // The reply is settled as finished once the upstream is done; the client's departure shows
        // only when the usage chunk is written after that, and must not settle the request again.
        await _app.Services.GetRequiredService<ChatGateway>().RunAsync(FrontDoor.ChatCompletions, new Payer(account.UserId, null), body, requestId, sink, leave.Token);

        Assert.True(sink.Left, "the client never reached the finish chunk");
        var kinds = await _app.InStoreAsync(db => db.Ledger.Where(e => e.RequestId == requestId).Select(e => e.Kind).OrderBy(k => k).ToListAsync());
        Assert.Equal([LedgerKind.Charge, LedgerKind.Hold, LedgerKind.Release], kinds);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == requestId));
        Assert.Equal((200, Provenance.Reported), (record.Status, record.Provenance));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        _app.RemoteIp = IPAddress.Loopback; // /metrics answers loopback only
        var metrics = await _app.CreateClient().GetStringAsync("/metrics");
        Assert.Equal(1, Sum(metrics, "portal_requests_total{"));
        Assert.Equal(1, Sum(metrics, "portal_request_duration_seconds_count{"));
        Assert.Equal(record.CostMicros, Sum(metrics, "portal_credits_charged_microdollars_total{"));
        // Settled once by the run itself, not a second time stopped by the ledger's unique index.
        Assert.DoesNotContain(_app.Logs.Entries, e => e.Message.Contains("already settled", StringComparison.Ordinal));
        await _app.AssertLedgerConsistentAsync();
    }

    /// <summary>The sum of the exposition's samples whose line starts with <paramref name="series"/>.</summary>
    private static long Sum(string exposition, string series) =>
        exposition.Split('\n').Where(l => l.StartsWith(series, StringComparison.Ordinal)).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>
    /// A streaming client that leaves as the finish chunk reaches it. As over a real connection,
    /// Portal learns of it at its next write: the abort fires and the write fails.
    /// </summary>
    private sealed class LeavesAtFinishSink(CancellationTokenSource leave) : ICompletionSink
    {
        public bool Started { get; private set; }

        public bool Left { get; private set; }

        public Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
        {
            ThrowIfLeft();
            Started = true;
            Left = chunk.Choices.Any(c => c.FinishReason is not null);
            return Task.CompletedTask;
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken)
        {
            ThrowIfLeft();
            Started = true;
            return Task.CompletedTask;
        }

        public Task DoneAsync(CancellationToken cancellationToken)
        {
            ThrowIfLeft();
            return Task.CompletedTask;
        }

        public Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a streaming request gets no whole reply");

        public Task ErrorAsync(ApiError error) => Task.CompletedTask; // nobody left to tell

        private void ThrowIfLeft()
        {
            if (Left)
            {
                leave.Cancel();
                throw new OperationCanceledException(leave.Token);
            }
        }
    }
}
