using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;

namespace Portal.Tests.Gateway;

/// <summary>The Responses API's billing at the edges (a client leaving mid-stream) and its hostile bodies.</summary>
public sealed class ResponsesBoundsTests : IDisposable
{
    // Paced, so the client can leave while the reply is still being generated.
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "50", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ClientThatLeavesMidStreamPaysForExactlyWhatItReceived()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/responses")
        {
            Content = new StringContent("""{"model":"glm-5","input":"Write at length.","max_output_tokens":400,"stream":true}""", Encoding.UTF8, "application/json"),
        };
        using var leave = new CancellationTokenSource();
        var response = await _app.ApiClient(account.Key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        var deltas = 0;
        while (deltas < 5 && await reader.ReadLineAsync(leave.Token) is { } line)
        {
            deltas += line == "event: response.output_text.delta" ? 1 : 0;
        }

        leave.Cancel(); // the client leaves
        response.Dispose();

        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Responses, Provenance.Partial, 499, "client_disconnected"), (record.Api, record.Provenance, record.Status, record.ErrorCode));
        Assert.InRange(record.CompletionTokens, 5, 399);
        Assert.Equal(Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros), record.CostMicros);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task HostileBodiesGetAClear4xxAndCostNothing()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.ApiClient(account.Key);

        async Task<JsonNode> Refused(string body, int status)
        {
            var response = await client.PostAsync("/api/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
            return JsonNode.Parse(text)!["error"]!;
        }

        var item = """{"role":"user","content":"x"},""";
        var manyItems = "{\"model\":\"glm-5\",\"input\":[" + string.Concat(Enumerable.Repeat(item, 100_000)) + "{\"role\":\"user\",\"content\":\"y\"}]}";
        Assert.Contains("JSON values", (await Refused(manyItems, 400))["message"]!.GetValue<string>());
        var deep = "{\"model\":\"glm-5\",\"input\":\"x\",\"metadata\":" + new string('[', 200) + new string(']', 200) + "}";
        Assert.Equal("invalid_request_error", (await Refused(deep, 400))["type"]!.GetValue<string>());
        var huge = "{\"model\":\"glm-5\",\"input\":\"" + new string('x', 9 * 1024 * 1024) + "\"}";
        await Refused(huge, 413);
        // 64 levels, as deep as a body may be; the chat completions body would nest the schema one level deeper.
        var deepTool = "{\"model\":\"glm-5\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":"
            + string.Concat(Enumerable.Repeat("{\"a\":", 61)) + "1" + new string('}', 61) + "}]}";
        Assert.Equal("tools[0].parameters", (await Refused(deepTool, 400))["param"]!.GetValue<string>());
        Assert.Equal("input[0]", (await Refused("""{"model":"glm-5","input":[7]}""", 400))["param"]!.GetValue<string>());
        Assert.Equal("input", (await Refused("""{"model":"glm-5","input":{"role":"user"}}""", 400))["param"]!.GetValue<string>());
        Assert.Equal("metadata", (await Refused("""{"model":"glm-5","input":"x","metadata":{"k":1}}""", 400))["param"]!.GetValue<string>());

        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.Equal(7, records.Sum(r => r.Requests));
        Assert.All(records, r => Assert.Equal((FrontDoor.Responses, 0L), (r.Api, r.CostMicros)));
        await _app.AssertLedgerConsistentAsync();
    }
}
