using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;

namespace Portal.Tests.Gateway;

/// <summary>The Messages API's hostile input and departing clients: bounded like chat completions, charged for what was delivered.</summary>
public sealed class MessagesBoundsTests : IDisposable
{
    // Paced, so the client can leave while the reply is still being generated.
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "50", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ClientThatLeavesMidStreamPaysForExactlyWhatItReceived()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/messages")
        {
            Content = new StringContent("""{"model":"glm-5","max_tokens":400,"stream":true,"messages":[{"role":"user","content":"Write at length."}]}""", Encoding.UTF8, "application/json"),
        };
        using var leave = new CancellationTokenSource();
        var response = await _app.ApiClient(account.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        var deltas = 0;
        while (deltas < 5 && await reader.ReadLineAsync(leave.Token) is { } line)
        {
            deltas += line.Contains("\"text_delta\"", StringComparison.Ordinal) ? 1 : 0;
        }

        leave.Cancel();
        response.Dispose();

        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Messages, Provenance.Partial, 499, "client_disconnected"), (record.Api, record.Provenance, record.Status, record.ErrorCode));
        Assert.InRange(record.CompletionTokens, 5, 399);
        Assert.Equal(Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros), record.CostMicros);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    public static TheoryData<string, int, string> Hostile()
    {
        var deep = new StringBuilder("""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":""");
        deep.Append(string.Concat(Enumerable.Repeat("""{"a":""", 200))).Append("1").Append(new string('}', 200)).Append('}');
        var blocks = string.Join(",", Enumerable.Repeat("""{"type":"text","text":"x"}""", 100_000));
        return new()
        {
            { deep.ToString(), 400, "invalid_request_error" },
            { $$"""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":[{{blocks}}]}]}""", 400, "invalid_request_error" },
            { """{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":"x"}],"pad":""" + "\"" + new string('x', 9 * 1024 * 1024) + "\"}", 413, "request_too_large" },
            { """{"model":"glm-5","max_tokens":5,"messages":"hi"}""", 400, "invalid_request_error" },
            { """{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""", 400, "invalid_request_error" },
            { """[1,2,3]""", 400, "invalid_request_error" },
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileBodiesGetAClearAnthropicErrorAndLoseNothing(string body, int status, string type)
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var response = await _app.ApiClient(account.Key).PostMessagesAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
        var error = JsonNode.Parse(text)!;
        Assert.Equal(("error", type), (error["type"]!.GetValue<string>(), error["error"]!["type"]!.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(error["error"]!["message"]!.GetValue<string>()));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == account.UserId && e.Kind == LedgerKind.Hold)));
        await _app.AssertLedgerConsistentAsync();
    }
}
