using Portal.Billing;
using System.Text;

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
}
