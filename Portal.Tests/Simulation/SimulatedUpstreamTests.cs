using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Gateway;
using Portal.Gateway.Simulation;
using static Portal.Tests.Simulation.SimulationHarness;

namespace Portal.Tests.Simulation;

public class SimulatedUpstreamTests
{
    private const string WeatherSchema =
        """{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["location"],"additionalProperties":false}""";

    [Fact]
    public async Task SameRequestGivesTheSameStream()
    {
        var first = await RunAsync(Request() with { Seed = 42, N = 2 }, Model(alwaysReasons: true));
        var second = await RunAsync(Request() with { Seed = 42, N = 2 }, Model(alwaysReasons: true));

        Assert.Equal(JsonSerializer.Serialize(first, Wire.Json), JsonSerializer.Serialize(second, Wire.Json));
    }

    [Fact]
    public async Task SeedAndPromptChangeTheReply()
    {
        var baseline = (await ReplyAsync(Request() with { Seed = 1 })).Single.Content.ToString();
        var otherSeed = (await ReplyAsync(Request() with { Seed = 2 })).Single.Content.ToString();
        var otherPrompt = (await ReplyAsync(Request("Write a haiku about autumn leaves") with { Seed = 1 })).Single.Content.ToString();

        Assert.NotEqual(baseline, otherSeed);
        Assert.NotEqual(baseline, otherPrompt);
        Assert.Contains("autumn", otherPrompt);
    }

    [Fact]
    public async Task ReplyLengthVariesByPromptWithinBounds()
    {
        var lengths = new HashSet<int>();
        foreach (var prompt in new[] { "alpha question", "beta question", "gamma question", "delta question", "epsilon question", "zeta question" })
        {
            var reply = await ReplyAsync(Request(prompt));
            var tokens = TokenEstimator.Count(reply.Single.Content.ToString());
            Assert.InRange(tokens, 30, 240);
            Assert.Equal("stop", reply.Single.FinishReason);
            lengths.Add(tokens);
        }

        Assert.True(lengths.Count > 1, "every prompt got a reply of the same length");
    }

    [Fact]
    public async Task ChunksCarryTheIdsAndEndWithOneUsageChunk()
    {
        var chunks = await RunAsync(Request());

        Assert.All(chunks, c =>
        {
            Assert.Equal("chatcmpl-test", c.Id);
            Assert.Equal(1_700_000_000, c.Created);
            Assert.Equal("glm-5", c.Model);
            Assert.Equal("chat.completion.chunk", c.Object);
        });
        Assert.Empty(chunks[^1].Choices);
        Assert.NotNull(chunks[^1].Usage);
        Assert.All(chunks[..^1], c => Assert.Null(c.Usage));
        Assert.All(chunks[..^1], c => Assert.Single(c.Choices));
    }

    [Fact]
    public async Task StreamOpensWithTheRoleAndEachContentDeltaIsOneToken()
    {
        var reply = await ReplyAsync(Request());

        var first = reply.Chunks[0].Choices[0].Delta;
        Assert.Equal("assistant", first.Role);
        Assert.Equal("", first.Content);
        Assert.All(reply.Chunks.SelectMany(c => c.Choices).Where(c => !string.IsNullOrEmpty(c.Delta.Content)),
            c => Assert.Equal(1, TokenEstimator.Count(c.Delta.Content!)));
        Assert.Equal(["role", .. Enumerable.Repeat("content", reply.Single.Kinds.Count - 2), "finish"], reply.Single.Kinds);
    }

    [Fact]
    public async Task UsageCountsExactlyWhatWasEmitted()
    {
        var request = Request() with { N = 2 };

        var reply = await ReplyAsync(request, Model(alwaysReasons: true));

        var reasoning = reply.Choices.Values.Sum(c => TokenEstimator.Count(c.Reasoning.ToString()));
        var content = reply.Choices.Values.Sum(c => TokenEstimator.Count(c.Content.ToString()));
        Assert.True(reasoning > 0);
        Assert.Equal(reasoning + content, reply.Usage.CompletionTokens);
        Assert.Equal(reasoning, reply.Usage.CompletionTokensDetails!.ReasoningTokens);
        Assert.Equal(TokenEstimator.PromptTokens(request.Messages), reply.Usage.PromptTokens);
        Assert.Equal(reply.Usage.PromptTokens + reply.Usage.CompletionTokens, reply.Usage.TotalTokens);
    }

    [Fact]
    public async Task OfferedToolsCountAsPromptTokens()
    {
        var tool = Tool("get_weather", WeatherSchema);
        var request = Request() with { Tools = [tool], ToolChoice = ToolChoice.None };

        var reply = await ReplyAsync(request);

        var definition = new JsonObject { ["name"] = tool.Name, ["description"] = tool.Description, ["parameters"] = JsonNode.Parse(WeatherSchema) }
            .ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var expected = TokenEstimator.PromptTokens(request.Messages) + TokenEstimator.Count(definition);
        Assert.Equal(expected, reply.Usage.PromptTokens);
        Assert.Equal(expected, SimulatedUpstream.PromptTokens(request));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(17)]
    public async Task MaxTokensCutsTheReplyWithLength(int maxTokens)
    {
        var reply = await ReplyAsync(Request(maxTokens: maxTokens));

        Assert.Equal("length", reply.Single.FinishReason);
        Assert.Equal(maxTokens, TokenEstimator.Count(reply.Single.Content.ToString()));
        Assert.Equal(maxTokens, reply.Usage.CompletionTokens);
    }

    [Fact]
    public async Task MaxTokensCountsReasoningToo()
    {
        var reply = await ReplyAsync(Request(maxTokens: 10), Model(alwaysReasons: true));

        Assert.Equal("length", reply.Single.FinishReason);
        Assert.Equal(10, TokenEstimator.Count(reply.Single.Reasoning.ToString()));
        Assert.Equal(0, reply.Single.Content.Length);
        Assert.Equal(10, reply.Usage.CompletionTokens);
        Assert.Equal(10, reply.Usage.CompletionTokensDetails!.ReasoningTokens);
    }

    [Fact]
    public async Task StopCutsTheContentJustBeforeTheStopString()
    {
        var full = (await ReplyAsync(Request())).Single.Content.ToString();
        var stop = full.Substring(full.Length / 2, 5);
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var reply = await ReplyAsync(Request() with { Stop = ["never-appears", stop] });

        Assert.Equal(expected, reply.Single.Content.ToString());
        Assert.Equal("stop", reply.Single.FinishReason);
        Assert.Equal(TokenEstimator.Count(expected), reply.Usage.CompletionTokens);
    }

    [Fact]
    public async Task NChoicesEachStreamTheirOwnReply()
    {
        var reply = await ReplyAsync(Request() with { N = 3 });

        Assert.Equal([0, 1, 2], reply.Choices.Keys);
        Assert.All(reply.Choices.Values, c =>
        {
            Assert.Equal("assistant", c.Role);
            Assert.Equal("stop", c.FinishReason);
            Assert.NotEqual(0, c.Content.Length);
        });
        Assert.Equal(3, reply.Choices.Values.Select(c => c.Content.ToString()).Distinct().Count());
        Assert.Equal(reply.Choices.Values.Sum(c => TokenEstimator.Count(c.Content.ToString())), reply.Usage.CompletionTokens);
    }

    [Fact]
    public async Task MaxTokensAppliesPerChoice()
    {
        var reply = await ReplyAsync(Request(maxTokens: 4) with { N = 2 });

        Assert.All(reply.Choices.Values, c => Assert.Equal(4, TokenEstimator.Count(c.Content.ToString())));
        Assert.Equal(8, reply.Usage.CompletionTokens);
    }

    [Theory]
    [InlineData(true, false, null, null, true)] // always reasons
    [InlineData(true, false, false, null, true)] // always reasons, even when told not to
    [InlineData(true, false, null, "none", true)]
    [InlineData(false, true, true, null, true)] // thinking enabled
    [InlineData(false, true, true, "high", true)]
    [InlineData(false, true, true, "minimal", false)]
    [InlineData(false, true, true, "none", false)]
    [InlineData(false, true, null, null, false)] // left to the model, which doesn't by default
    [InlineData(false, true, false, null, false)]
    [InlineData(false, false, true, null, false)] // cannot reason
    public async Task ReasoningComesFirstWhenTheModelReasons(bool always, bool supports, bool? thinking, string? effort, bool expected)
    {
        var reply = await ReplyAsync(Request() with { Thinking = thinking, ReasoningEffort = effort }, Model(supports, always));

        var choice = reply.Single;
        Assert.Equal(expected, choice.Reasoning.Length > 0);
        Assert.Equal(expected, reply.Usage.CompletionTokensDetails!.ReasoningTokens > 0);
        Assert.NotEqual(0, choice.Content.Length);
        var kinds = choice.Kinds.Distinct().ToList();
        Assert.Equal(expected ? ["role", "reasoning", "content", "finish"] : ["role", "content", "finish"], kinds);
    }

    [Theory]
    [InlineData(8192)]
    [InlineData(25)]
    public async Task JsonModeContentIsValidJson(int maxTokens)
    {
        var reply = await ReplyAsync(Request(maxTokens: maxTokens) with { JsonMode = true });

        var json = JsonNode.Parse(reply.Single.Content.ToString())!.AsObject();
        Assert.Equal("glm-5", json["model"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(json["reply"]!.GetValue<string>()));
        Assert.Equal("stop", reply.Single.FinishReason);
        Assert.InRange(reply.Usage.CompletionTokens, 1, maxTokens);
    }

    [Theory]
    [MemberData(nameof(JsonSchemaSampleTests.Schemas), MemberType = typeof(JsonSchemaSampleTests))]
    public async Task ToolCallArgumentsSatisfyTheSchema(string schemaJson)
    {
        var request = Request("What's the weather in Paris?") with { Tools = [Tool("lookup", schemaJson)] };

        var reply = await ReplyAsync(request);

        var choice = reply.Single;
        Assert.Equal("tool_calls", choice.FinishReason);
        Assert.Equal("lookup", choice.ToolName);
        Assert.Equal("function", choice.ToolType);
        Assert.StartsWith("call_", choice.ToolId);
        Assert.Equal(0, choice.Content.Length);
        Assert.Empty(SchemaCheck.Errors(JsonNode.Parse(choice.Arguments.ToString()), JsonNode.Parse(schemaJson)!));
        Assert.Equal(TokenEstimator.Count("lookup") + TokenEstimator.Count(choice.Arguments.ToString()), reply.Usage.CompletionTokens);
    }

    [Fact]
    public async Task ToolCallStreamsTheHeaderThenTheArgumentsInPieces()
    {
        var reply = await ReplyAsync(Request("What's the weather in Paris?") with { Tools = [Tool("get_weather", WeatherSchema)] });

        var calls = reply.Chunks.SelectMany(c => c.Choices).SelectMany(c => c.Delta.ToolCalls ?? []).ToList();
        Assert.True(calls.Count > 3);
        Assert.Equal("get_weather", calls[0].Function!.Name);
        Assert.NotNull(calls[0].Id);
        Assert.All(calls.Skip(1), c => Assert.Null(c.Id));
        var arguments = JsonNode.Parse(reply.Single.Arguments.ToString())!.AsObject();
        Assert.Equal("Paris", arguments["location"]!.GetValue<string>());
        Assert.Equal("celsius", arguments["unit"]!.GetValue<string>());
    }

    [Fact]
    public async Task FunctionWithoutParametersGetsEmptyArguments()
    {
        var reply = await ReplyAsync(Request() with { Tools = [Tool("ping", null)] });

        Assert.Equal("{}", reply.Single.Arguments.ToString());
        Assert.Equal("tool_calls", reply.Single.FinishReason);
    }

    [Fact]
    public async Task AutoPicksTheToolTheUserMentions()
    {
        var request = Request("Please search the web for cheap flights") with
        {
            Tools = [Tool("get_weather", WeatherSchema), Tool("web_search", """{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}""")],
        };

        var reply = await ReplyAsync(request);

        Assert.Equal("web_search", reply.Single.ToolName);
        Assert.Equal("Please search the web for cheap flights", JsonNode.Parse(reply.Single.Arguments.ToString())!["query"]!.GetValue<string>());
    }

    [Fact]
    public async Task ToolResultGetsATextAnswer()
    {
        var request = Request() with
        {
            Messages =
            [
                new ChatMessage("user", "What's the weather in Paris?"),
                new ChatMessage("assistant", "", HasToolCalls: true),
                new ChatMessage("tool", """{"temperature":21}""", ToolCallId: "call_1"),
            ],
            Tools = [Tool("get_weather", WeatherSchema)],
        };

        var reply = await ReplyAsync(request);

        Assert.Equal("stop", reply.Single.FinishReason);
        Assert.Null(reply.Single.ToolName);
        Assert.StartsWith("Based on the tool result", reply.Single.Content.ToString());
    }

    [Theory]
    [InlineData(ToolChoice.None, null, "user", null)]
    [InlineData(ToolChoice.Required, null, "tool", "get_weather")]
    [InlineData(ToolChoice.Named, "send_email", "user", "send_email")]
    [InlineData(ToolChoice.Named, "send_email", "tool", "send_email")]
    [InlineData(ToolChoice.Auto, null, "tool", null)]
    public async Task ToolChoiceDecidesWhetherAToolIsCalled(ToolChoice choice, string? name, string lastRole, string? expectedTool)
    {
        List<ChatMessage> messages = lastRole == "user"
            ? [new ChatMessage("user", "Hello there")]
            : [new ChatMessage("user", "Hello there"), new ChatMessage("assistant", "", HasToolCalls: true), new ChatMessage("tool", "ok", ToolCallId: "call_1")];
        var request = Request() with
        {
            Messages = messages,
            Tools = [Tool("get_weather", WeatherSchema), Tool("send_email", """{"type":"object","properties":{"to":{"type":"string","format":"email"}},"required":["to"]}""")],
            ToolChoice = choice,
            ToolChoiceName = name,
        };

        var reply = await ReplyAsync(request);

        Assert.Equal(expectedTool, reply.Single.ToolName);
        Assert.Equal(expectedTool is null ? "stop" : "tool_calls", reply.Single.FinishReason);
    }

    [Fact]
    public async Task ReasoningModelsReasonBeforeCallingATool()
    {
        var reply = await ReplyAsync(Request() with { Tools = [Tool("get_weather", WeatherSchema)] }, Model(alwaysReasons: true));

        Assert.Equal(["role", "reasoning", "tool", "finish"], reply.Single.Kinds.Distinct());
        Assert.Equal("tool_calls", reply.Single.FinishReason);
    }

    [Fact]
    public async Task CancellingStopsThePacedStream()
    {
        using var cancellation = new CancellationTokenSource();
        var stream = Upstream(tokensPerSecond: 1).StreamAsync(Request(), Model(), "chatcmpl-test", 0, cancellation.Token);
        await using var chunks = stream.GetAsyncEnumerator();

        Assert.True(await chunks.MoveNextAsync());
        Assert.True(await chunks.MoveNextAsync());
        Assert.Equal(1, TokenEstimator.Count(chunks.Current.Choices[0].Delta.Content!));
        var next = chunks.MoveNextAsync(); // the next token is due a second later
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
    }

    [Fact]
    public async Task CancellingDuringTheFirstTokenDelayStopsTheStream()
    {
        using var cancellation = new CancellationTokenSource();
        var stream = Upstream(firstTokenDelayMs: 600_000).StreamAsync(Request(), Model(), "chatcmpl-test", 0, CancellationToken.None);
        await using var chunks = stream.GetAsyncEnumerator(cancellation.Token);

        var first = chunks.MoveNextAsync();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
    }
}
