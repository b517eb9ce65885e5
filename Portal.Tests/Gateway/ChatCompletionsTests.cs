using Portal.Billing;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;

namespace Portal.Tests.Gateway;

public sealed class ChatCompletionsTests : IDisposable
{
    // No pacing: the simulated upstream answers at once.
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task OpenAiSdkGetsACompletionAndIsChargedExactlyItsUsage()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var chat = _app.OpenAiChat(account.Key, "glm-5");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Tell me about the sea.")], new ChatCompletionOptions { MaxOutputTokenCount = 40 });

        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal("glm-5", completion.Model);
        var expectedCost = Money.Cost(completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, Money.FromUsd(1.50m), Money.FromUsd(5.00m));
        Assert.True(expectedCost > 0);
        Assert.Equal(Money.FromUsd(1m) - expectedCost, await _app.BalanceAsync(account.UserId));

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((expectedCost, 200, Provenance.Reported, account.KeyId), (record.CostMicros, record.Status, record.Provenance, record.ApiKeyId));
        Assert.Equal((Money.FromUsd(1.50m), Money.FromUsd(5.00m)), (record.InputPriceMicros, record.OutputPriceMicros));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task OpenAiSdkStreamsAndGetsUsageInTheLastChunk()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key, "kimi-k2");

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Stream a short answer.")], new ChatCompletionOptions { MaxOutputTokenCount = 30 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
        }

        Assert.True(updates > 5, $"only {updates} updates: the reply was not streamed");
        Assert.NotNull(usage);
        Assert.Equal(30, usage.OutputTokenCount);
        Assert.Equal(Portal.Gateway.TokenEstimator.Count(text.ToString()), usage.OutputTokenCount);
    }

    [Fact]
    public async Task ToolCallArgumentsFollowTheOfferedSchema()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key, "glm-5.2");
        var weather = ChatTool.CreateFunctionTool("get_weather", "Current weather", BinaryData.FromString("""
            {"type":"object","properties":{"city":{"type":"string","minLength":2},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]}
            """));

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Weather in Paris?")], new ChatCompletionOptions { Tools = { weather } });

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        var arguments = JsonNode.Parse(call.FunctionArguments.ToString())!.AsObject();
        Assert.True(arguments["city"]!.GetValue<string>().Length >= 2);
        Assert.Contains(arguments["unit"]!.GetValue<string>(), new[] { "c", "f" });
    }

    [Fact]
    public async Task StreamedToolCallArgumentsAssembleIntoValidJson()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key, "kimi-k2");
        var lookup = ChatTool.CreateFunctionTool("lookup", "Find a record", BinaryData.FromString("""
            {"type":"object","properties":{"id":{"type":"integer","minimum":1},"tags":{"type":"array","items":{"type":"string"},"minItems":1}},"required":["id","tags"]}
            """));

        var name = "";
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Look up record 7")], new ChatCompletionOptions { Tools = { lookup } }))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name += call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(("lookup", ChatFinishReason.ToolCalls), (name, finish));
        var parsed = JsonNode.Parse(arguments.ToString())!.AsObject();
        Assert.True(parsed["id"]!.GetValue<long>() >= 1);
        Assert.NotEmpty(parsed["tags"]!.AsArray());
    }

    [Fact]
    public async Task NStopAliasesAndContentPartsWorkThroughTheApi()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var first = JsonNode.Parse(await (await client.PostChatAsync("""
            {"model":"moonshotai/kimi-k2","n":2,"max_tokens":60,
             "messages":[{"role":"user","content":[{"type":"text","text":"Describe a lake."},{"type":"image_url","image_url":{"url":"https://example.com/lake.png"}}]}]}
            """)).Content.ReadAsStringAsync())!;
        Assert.Equal("kimi-k2", first["model"]!.GetValue<string>());
        var choices = first["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => c!["index"]!.GetValue<int>()));
        var text = choices[0]!["message"]!["content"]!.GetValue<string>();
        Assert.NotEqual(text, choices[1]!["message"]!["content"]!.GetValue<string>());

        // Stop at the second word of the first reply: the reply ends just before it.
        var stopWord = text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var stopped = JsonNode.Parse(await (await client.PostChatAsync($$$"""
            {"model":"kimi-k2","n":1,"max_tokens":60,"stop":[{{{JsonValue.Create(stopWord).ToJsonString()}}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"Describe a lake."},{"type":"image_url","image_url":{"url":"https://example.com/lake.png"}}]}]}
            """)).Content.ReadAsStringAsync())!;
        var choice = stopped["choices"]![0]!;
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.DoesNotContain(stopWord, choice["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task JsonModeReturnsValidJson()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key, "glm-5");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Answer in JSON.")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() });

        using var parsed = JsonDocument.Parse(completion.Content[0].Text);
        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
    }

    [Fact]
    public async Task ReasoningModelsReturnReasoningContent()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var response = await client.PostChatAsync("""{"model":"deepseek/deepseek-r1","messages":[{"role":"user","content":"Think first."}],"max_tokens":64}""");

        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("deepseek-r1", body["model"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["choices"]![0]!["message"]!["reasoning_content"]?.GetValue<string>()));
        Assert.True(body["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task StreamingResponsesCarryRateLimitHeadersAndEndWithDone()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var response = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}""");

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("60", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.True(response.Headers.Contains("x-ratelimit-remaining-requests"));
        Assert.True(response.Headers.Contains("x-ratelimit-reset-requests"));
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var usage = JsonNode.Parse(events[^2]["data: ".Length..])!;
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(8, usage["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.True(usage["usage"]!["cost"]!.GetValue<decimal>() > 0);
    }

    [Fact]
    public async Task ModelsListTheSeededCatalogAndSayTheyAreSimulated()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var list = JsonNode.Parse(await client.GetStringAsync("/api/v1/models"))!;
        var ids = list["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["deepseek-r1", "glm-5", "glm-5.2", "kimi-k2"], ids);
        Assert.All(list["data"]!.AsArray(), m => Assert.True(m!["simulated"]!.GetValue<bool>()));

        var one = JsonNode.Parse(await client.GetStringAsync("/api/v1/models/zhipu/glm-5"))!;
        Assert.Equal(("glm-5", "model", 8192), (one["id"]!.GetValue<string>(), one["object"]!.GetValue<string>(), one["max_output_tokens"]!.GetValue<int>()));
        Assert.Equal(5.00m, one["pricing"]!["output"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task CreditsAndKeyEndpointsDescribeTheCaller()
    {
        var account = await _app.CreateApiAccountAsync(credits: 2.5m);
        var client = _app.ApiClient(account.Key);

        var credits = JsonNode.Parse(await client.GetStringAsync("/api/v1/credits"))!["data"]!;
        Assert.Equal((2.5m, 2.5m, 0m), (credits["balance"]!.GetValue<decimal>(), credits["total_granted"]!.GetValue<decimal>(), credits["total_used"]!.GetValue<decimal>()));

        var key = JsonNode.Parse(await client.GetStringAsync("/api/v1/key"))!["data"]!;
        Assert.Equal("test key", key["name"]!.GetValue<string>());
        Assert.Equal($"{account.Key[..14]}…{account.Key[^4..]}", key["prefix"]!.GetValue<string>());
        Assert.Equal(60, key["rate_limit"]!["requests"]!.GetValue<int>());
        Assert.DoesNotContain(account.Key, key.ToJsonString());
    }

    [Fact]
    public async Task TheSimulatedUpstreamAnswersLogprobsWhenAskedWithoutChangingTheReply()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key);
        List<ChatMessage> messages = [new UserChatMessage("Name three rivers.")];

        ChatCompletion plain = await chat.CompleteChatAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 30 });
        ChatCompletion withLogprobs = await chat.CompleteChatAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 30, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 });
        var streamed = new List<ChatTokenLogProbabilityDetails>();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, new ChatCompletionOptions { MaxOutputTokenCount = 30, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 }))
        {
            streamed.AddRange(update.ContentTokenLogProbabilities);
        }

        Assert.Empty(plain.ContentTokenLogProbabilities);
        Assert.Equal(plain.Content[0].Text, withLogprobs.Content[0].Text);
        var tokens = withLogprobs.ContentTokenLogProbabilities;
        Assert.Equal(plain.Content[0].Text, string.Concat(tokens.Select(t => t.Token))); // one entry per token, in order
        Assert.All(tokens, t =>
        {
            Assert.Equal(3, t.TopLogProbabilities.Count);
            Assert.Equal((t.Token, t.LogProbability), (t.TopLogProbabilities[0].Token, t.TopLogProbabilities[0].LogProbability));
            Assert.True(t.LogProbability <= 0 && t.TopLogProbabilities[2].LogProbability < t.TopLogProbabilities[1].LogProbability);
            Assert.Equal(t.Token, System.Text.Encoding.UTF8.GetString(t.Utf8Bytes!.Value.Span));
        });
        Assert.Equal(tokens.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));
    }

    [Fact]
    public async Task TheClientsRequestIdIsEchoedInTheReplyAndEveryChunk()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        var reply = JsonNode.Parse(await (await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"request_id":"order-7731"}""")).Content.ReadAsStringAsync())!;
        var stream = await (await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true},"request_id":"order-7732"}""")).Content.ReadAsStringAsync();
        var chunks = stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e != "data: [DONE]").Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        var without = JsonNode.Parse(await (await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5}""")).Content.ReadAsStringAsync())!;

        Assert.Equal("order-7731", reply["request_id"]!.GetValue<string>());
        Assert.True(chunks.Count > 2);
        Assert.All(chunks, c => Assert.Equal("order-7732", c["request_id"]!.GetValue<string>()));
        Assert.Null(without["request_id"]);
    }

    [Theory]
    [InlineData("""{"logprobs":"yes"}""", "logprobs")]
    [InlineData("""{"logprobs":true,"top_logprobs":21}""", "top_logprobs")]
    [InlineData("""{"top_logprobs":2}""", "top_logprobs")]
    [InlineData("""{"request_id":"abc"}""", "request_id")]
    public async Task LogprobsAndRequestIdOutOfBoundsAreRefusedNamingTheParam(string fields, string param)
    {
        var account = await _app.CreateApiAccountAsync();
        var body = JsonNode.Parse(fields)!.AsObject();
        body["model"] = "glm-5";
        body["messages"] = JsonNode.Parse("""[{"role":"user","content":"Hi"}]""");

        var response = await _app.ApiClient(account.Key).PostChatAsync(body.ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
    }
}
