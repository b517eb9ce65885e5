using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

/// <summary>
/// No request outlives its hold (ADR 18): past Gateway:MaxRequestSeconds (by default nine tenths of
/// StaleHoldSeconds) it is stopped and settled at what it delivered; and while a long stream runs it
/// records its progress, so a process that dies with it leaves evidence of what was delivered.
/// </summary>
public sealed class RequestDeadlineTests : IDisposable
{
    // A slow stream on the real clock; the deadline and the progress interval on the test's clock.
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "20",
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Gateway:StaleHoldSeconds"] = "600",
        ["Gateway:ProgressSeconds"] = "10",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AStreamPastItsDeadlineIsStoppedAndChargedWhatItDelivered()
    {
        _app.Time.TimersFollowClock = true;
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var requestId = RequestIds.New(_app.Time);
        var sink = new RecordingSink();

        var run = StartAsync(account, requestId, sink);
        await sink.ChunksAsync(3);
        _app.Time.Advance(TimeSpan.FromSeconds(541)); // nine tenths of 600 s, and one
        await run;

        Assert.Equal("request_timeout", sink.Error?.Code);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == requestId));
        Assert.Equal((200, "request_timeout", Provenance.Partial), (record.Status, record.ErrorCode, record.Provenance));
        Assert.InRange(record.CompletionTokens, 1, 399); // the first chunk may carry only the role
        Assert.Equal(Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros), record.CostMicros);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ALongStreamRecordsWhatItDeliveredInTheJournalUntilItSettles()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var requestId = RequestIds.New(_app.Time);
        var sink = new RecordingSink();
        var journal = _app.Services.GetRequiredService<SettlementJournal>();

        using var leave = new CancellationTokenSource();
        var run = StartAsync(account, requestId, sink, leave.Token);
        await sink.ChunksAsync(2);
        _app.Time.Advance(TimeSpan.FromSeconds(10));
        var delivered = await sink.ChunksAsync(sink.Count + 2);

        var line = (await File.ReadAllLinesAsync(journal.FilePath)).Single(l => l.Contains(requestId, StringComparison.Ordinal));
        var progress = JsonNode.Parse(line)!;
        Assert.Equal("progress", progress["type"]!.GetValue<string>());
        Assert.InRange(progress["entry"]!["record"]!["completionTokens"]!.GetValue<int>(), 2, delivered);
        Assert.True(progress["entry"]!["settlement"]!["chargeMicros"]!.GetValue<long>() > 0);

        leave.Cancel(); // the client leaves: the run settles, and its progress is no evidence any more
        await run;
        Assert.False(File.Exists(journal.FilePath), "a settled stream's progress was left in the journal");
    }

    private Task StartAsync(ApiAccount account, string requestId, RecordingSink sink, CancellationToken leave = default)
    {
        JsonNode body = JsonNode.Parse("""{"model":"glm-5","messages":[{"role":"user","content":"Write at length."}],"max_tokens":400,"stream":true}""")!;
        return Task.Run(() => _app.Services.GetRequiredService<ChatGateway>().RunAsync(new Payer(account.UserId, null), body, requestId, sink, leave));
    }

    /// <summary>A streaming client that reads everything and remembers the error it was told.</summary>
    private sealed class RecordingSink : ICompletionSink
    {
        private int _chunks;

        public bool Started { get; private set; }

        public int Count => Volatile.Read(ref _chunks);

        public ApiError? Error { get; private set; }

        public async Task<int> ChunksAsync(int count)
        {
            for (var waited = 0; waited < 400 && Count < count; waited++)
            {
                await Task.Delay(25);
            }

            return Count >= count ? Count : throw new TimeoutException($"only {Count} of {count} chunks arrived");
        }

        public Task ChunkAsync(ChatChunk chunk, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Started = true;
            Interlocked.Increment(ref _chunks);
            return Task.CompletedTask;
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken)
        {
            Started = true;
            return Task.CompletedTask;
        }

        public Task DoneAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CompletionAsync(ChatCompletion completion, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a streaming request gets no whole reply");

        public Task ErrorAsync(ApiError error)
        {
            Error = error;
            return Task.CompletedTask;
        }
    }
}
