using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

/// <summary>
/// No request runs for ever (ADR 18): past Gateway:MaxRequestSeconds it is stopped and settled at what
/// it delivered; and while a long stream runs it records its progress in the store (ADR 20), so an
/// instance that dies with it leaves evidence of what was delivered for whichever instance settles it.
/// </summary>
public sealed class RequestDeadlineTests : IDisposable
{
    // A slow stream on the real clock; the deadline and the progress interval on the test's clock.
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "20",
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Gateway:MaxRequestSeconds"] = "540",
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
        _app.Time.Advance(TimeSpan.FromSeconds(541)); // the deadline, and one
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
    public async Task ALongStreamRecordsWhatItDeliveredInTheStoreUntilItSettles()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var requestId = RequestIds.New(_app.Time);
        var sink = new RecordingSink();

        using var leave = new CancellationTokenSource();
        var run = StartAsync(account, requestId, sink, leave.Token);
        await sink.ChunksAsync(2);
        _app.Time.Advance(TimeSpan.FromSeconds(10));
        var delivered = await sink.ChunksAsync(sink.Count + 2);

        var progress = await ProgressAsync(requestId);
        Assert.InRange(progress.ToRecord().CompletionTokens, 2, delivered);
        Assert.Equal(("interrupted", Provenance.Partial), (progress.ToRecord().ErrorCode, progress.ToRecord().Provenance));
        Assert.True(progress.ChargeMicros > 0);
        Assert.False(File.Exists(_app.Services.GetRequiredService<SettlementJournal>().FilePath), "progress went to the journal file");

        leave.Cancel(); // the client leaves: the run settles, and its progress goes with the settlement
        await run;
        Assert.False(await _app.InStoreAsync(db => db.RequestProgress.AnyAsync()), "a settled stream's progress was left in the store");
        await _app.AssertLedgerConsistentAsync();
    }

    /// <summary>The request's progress row, once its write (not waited for by the stream) has committed.</summary>
    private async Task<RequestProgress> ProgressAsync(string requestId)
    {
        for (var waited = 0; waited < 200; waited++)
        {
            if (await _app.InStoreAsync(db => db.RequestProgress.FirstOrDefaultAsync(p => p.RequestId == requestId)) is { } progress)
            {
                return progress;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"request {requestId} recorded no progress");
    }

    private Task StartAsync(ApiAccount account, string requestId, RecordingSink sink, CancellationToken leave = default)
    {
        JsonNode body = JsonNode.Parse("""{"model":"glm-5","messages":[{"role":"user","content":"Write at length."}],"max_tokens":400,"stream":true}""")!;
        return Task.Run(() => _app.Services.GetRequiredService<ChatGateway>().RunAsync(FrontDoor.ChatCompletions, new Payer(account.UserId, null), body, requestId, sink, leave));
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

        public Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
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

        public Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a streaming request gets no whole reply");

        public Task ErrorAsync(ApiError error)
        {
            Error = error;
            return Task.CompletedTask;
        }
    }
}
