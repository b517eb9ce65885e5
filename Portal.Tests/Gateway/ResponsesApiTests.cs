using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Responses;
using Portal.Billing;

namespace Portal.Tests.Gateway;

// The Responses client of the OpenAI SDK is marked experimental (OPENAI001); it is the client Codex's users' code calls.
#pragma warning disable OPENAI001

/// <summary>POST /api/v1/responses through the official OpenAI .NET SDK's Responses client, against the simulated upstream.</summary>
public sealed class ResponsesApiTests : IDisposable
{
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task SdkGetsAResponseAndIsChargedExactlyItsSettledUsage()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("zhipu/glm-5", [ResponseItem.CreateUserMessageItem("Tell me about the sea.")])
        {
            MaxOutputTokenCount = 400,
            Instructions = "Answer in one paragraph.",
            Metadata = { ["ticket"] = "T-1" },
        });

        Assert.StartsWith("resp_", response.Id);
        Assert.Equal(("glm-5", ResponseStatus.Completed), (response.Model, response.Status));
        Assert.Equal("T-1", response.Metadata["ticket"]);
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(response.OutputItems));
        Assert.False(string.IsNullOrWhiteSpace(message.Content[0].Text));
        Assert.Equal(message.Content[0].Text, response.GetOutputText());
        var usage = response.Usage;
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
        Assert.True(usage.OutputTokenCount is > 0 and < 400);

        var cost = Money.Cost(usage.InputTokenCount, usage.OutputTokenCount, Glm5Input, Glm5Output);
        Assert.True(cost > 0);
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Responses, 200, Provenance.Reported, cost), (record.Api, record.Status, record.Provenance, record.CostMicros));
        Assert.Equal((usage.InputTokenCount, usage.OutputTokenCount, false), (record.PromptTokens, record.CompletionTokens, record.Stream));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task SdkStreamsTheTypedEventsInOrderAndTheLastCarriesTheSettledUsage()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        var kinds = new List<string>();
        var sequence = new List<int>();
        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("kimi-k2", [ResponseItem.CreateUserMessageItem("Stream a short answer.")]) { MaxOutputTokenCount = 400, StreamingEnabled = true }))
        {
            kinds.Add(update.GetType().Name);
            sequence.Add(update.SequenceNumber);
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }

            completed = (update as StreamingResponseCompletedUpdate)?.Response ?? completed;
        }

        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        var deltas = kinds.Count(k => k == nameof(StreamingResponseOutputTextDeltaUpdate));
        Assert.True(deltas > 5, $"only {deltas} deltas: the reply was not streamed");
        Assert.Equal(
            [
                nameof(StreamingResponseCreatedUpdate), nameof(StreamingResponseInProgressUpdate), nameof(StreamingResponseOutputItemAddedUpdate),
                nameof(StreamingResponseContentPartAddedUpdate), .. Enumerable.Repeat(nameof(StreamingResponseOutputTextDeltaUpdate), deltas),
                nameof(StreamingResponseOutputTextDoneUpdate), nameof(StreamingResponseContentPartDoneUpdate), nameof(StreamingResponseOutputItemDoneUpdate),
                nameof(StreamingResponseCompletedUpdate),
            ], kinds);

        Assert.NotNull(completed);
        Assert.Equal(ResponseStatus.Completed, completed.Status);
        Assert.Equal(text.ToString(), completed.GetOutputText());
        var output = Portal.Gateway.TokenEstimator.Count(text.ToString());
        Assert.Equal(output, completed.Usage.OutputTokenCount);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Responses, true, completed.Usage.InputTokenCount, output), (record.Api, record.Stream, record.PromptTokens, record.CompletionTokens));
        Assert.Equal(Money.Cost(record.PromptTokens, output, Money.FromUsd(1.50m), Money.FromUsd(6.00m)), record.CostMicros);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task FunctionCallRoundTripEndsInAnAnswer()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);
        var weather = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""
            {"type":"object","properties":{"city":{"type":"string","minLength":2},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]}
            """), strictModeEnabled: true, functionDescription: "Current weather");
        List<ResponseItem> conversation = [ResponseItem.CreateUserMessageItem("Weather in Paris?")];

        var first = (ResponseResult)await client.CreateResponseAsync(new CreateResponseOptions("glm-5.2", conversation)
        {
            Tools = { weather },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
        });

        var call = Assert.IsAssignableFrom<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.CallId));
        var arguments = JsonNode.Parse(call.FunctionArguments.ToString())!.AsObject();
        Assert.Contains(arguments["unit"]!.GetValue<string>(), new[] { "c", "f" });

        conversation.Add(call);
        conversation.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, """{"temperature":18}"""));
        var second = (ResponseResult)await client.CreateResponseAsync(new CreateResponseOptions("glm-5.2", conversation) { Tools = { weather } });

        Assert.Equal(ResponseStatus.Completed, second.Status);
        Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(second.OutputItems));
        Assert.False(string.IsNullOrWhiteSpace(second.GetOutputText()));
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.Equal(2, records.Count(r => r.Api == FrontDoor.Responses && r.Status == 200));
    }

    [Fact]
    public async Task StreamedFunctionCallArgumentsArriveAsTypedDeltas()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);
        var lookup = ResponseTool.CreateFunctionTool("lookup", BinaryData.FromString("""
            {"type":"object","properties":{"id":{"type":"integer","minimum":1}},"required":["id"]}
            """), strictModeEnabled: false);

        var deltas = new StringBuilder();
        string? done = null;
        FunctionCallResponseItem? item = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("kimi-k2", [ResponseItem.CreateUserMessageItem("Look up record 7")])
        {
            Tools = { lookup },
            ToolChoice = ResponseToolChoice.CreateFunctionChoice("lookup"),
            StreamingEnabled = true,
        }))
        {
            switch (update)
            {
                case StreamingResponseFunctionCallArgumentsDeltaUpdate delta:
                    deltas.Append(delta.Delta.ToString());
                    break;
                case StreamingResponseFunctionCallArgumentsDoneUpdate argumentsDone:
                    done = argumentsDone.FunctionArguments.ToString();
                    break;
                case StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem call }:
                    item = call;
                    break;
            }
        }

        Assert.NotNull(item);
        Assert.Equal(("lookup", deltas.ToString(), deltas.ToString()), (item.FunctionName, done, item.FunctionArguments.ToString()));
        Assert.True(JsonNode.Parse(deltas.ToString())!["id"]!.GetValue<long>() >= 1);
    }

    [Fact]
    public async Task JsonSchemaFormatGivesJsonThatSatisfiesIt()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("A city, please.")])
        {
            TextOptions = new ResponseTextOptions
            {
                TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("city", BinaryData.FromString("""
                    {"type":"object","properties":{"name":{"type":"string","minLength":3},"population":{"type":"integer","minimum":1}},"required":["name","population"],"additionalProperties":false}
                    """), jsonSchemaIsStrict: true),
            },
        });

        var city = JsonNode.Parse(response.GetOutputText())!.AsObject();
        Assert.True(city["name"]!.GetValue<string>().Length >= 3);
        Assert.True(city["population"]!.GetValue<long>() >= 1);
        Assert.Equal(ResponseTextFormatKind.JsonSchema, response.TextOptions.TextFormat.Kind);
    }

    [Fact]
    public async Task ReasoningComesAsAReasoningItemAndReasoningTokens()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("deepseek-r1", [ResponseItem.CreateUserMessageItem("Think, then answer.")])
        {
            ReasoningOptions = new ResponseReasoningOptions { ReasoningEffortLevel = ResponseReasoningEffortLevel.Low },
            MaxOutputTokenCount = 200,
        });

        var reasoning = Assert.IsAssignableFrom<ReasoningResponseItem>(response.OutputItems[0]);
        Assert.False(string.IsNullOrWhiteSpace(reasoning.GetSummaryText()));
        Assert.IsAssignableFrom<MessageResponseItem>(response.OutputItems[1]);
        Assert.True(response.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
    }

    [Fact]
    public async Task AReplyCutAtMaxOutputTokensIsIncomplete()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var response = await client.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Write at length.","max_output_tokens":16}"""));

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(("incomplete", "max_output_tokens"), (body["status"]!.GetValue<string>(), body["incomplete_details"]!["reason"]!.GetValue<string>()));
        Assert.Equal(16, body["usage"]!["output_tokens"]!.GetValue<int>());
        Assert.True(body["store"]!.GetValue<bool>()); // kept, as by default (ADR 32)
    }

    [Fact]
    public async Task ErrorsAreOpenAiErrorsNamingTheResponsesParameter()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        async Task<ClientResultException> Refused(CreateResponseOptions options) =>
            await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(options));

        var unknown = await Refused(new CreateResponseOptions("no-such-model", [ResponseItem.CreateUserMessageItem("Hi")]));
        Assert.Equal(404, unknown.Status);
        var badKey = await Assert.ThrowsAsync<ClientResultException>(() => _app.OpenAiResponses("sk-portal-not-a-key").CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Hi")])));
        Assert.Equal(401, badKey.Status);
        var webSearch = await Refused(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Hi")]) { Tools = { ResponseTool.CreateWebSearchTool() } });
        Assert.Equal(400, webSearch.Status);

        var http = _app.ApiClient(account.Key);
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Hi","tools":[{"type":"web_search"}]}""")),
            400, "invalid_request_error", "tools[0].type");
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Hi","max_output_tokens":0}""")),
            400, "invalid_request_error", "max_output_tokens");
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Hi","max_output_tokens":-5}""")),
            400, "invalid_request_error", "max_output_tokens");
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Hi","previous_response_id":"resp_1"}""")),
            400, "previous_response_not_found", "previous_response_id");
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5"}""")),
            400, "invalid_request_error", "input");
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":[{"type":"message","role":"tool","content":"x"}]}""")),
            400, "invalid_request_error", "input[0].role");
        // Checked by the chat completions validator, answered in the Responses API's names.
        var temperature = await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","input":"Hi","temperature":3}""")),
            400, "invalid_request_error", "temperature");
        var schema = await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses",
                Json("""{"model":"glm-5","input":"Hi","text":{"format":{"type":"json_schema","name":"bad name!","schema":{"type":"object"}}}}""")),
            400, "invalid_request_error", "text.format.name");
        Assert.Contains("'text.format.name'", schema["message"]!.GetValue<string>());
        await GatewayFixtures.AssertErrorAsync(await http.PostAsync("/api/v1/responses", Json("""{"model":"kimi-k2","input":"Hi","reasoning":{"effort":"high"}}""")),
            400, "unsupported_parameter", "reasoning.effort");
        Assert.NotNull(temperature);

        // Nothing was charged, and every refusal is on the record as a refusal of the Responses API.
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.All(records, r => Assert.Equal((FrontDoor.Responses, 0L), (r.Api, r.CostMicros)));
        Assert.Equal(11, records.Sum(r => r.Requests));
        await _app.AssertLedgerConsistentAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
