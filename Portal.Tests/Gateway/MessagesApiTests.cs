using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;

namespace Portal.Tests.Gateway;

/// <summary>The Messages API (/api/v1/messages) through Anthropic's official SDK, against the simulated upstream.</summary>
public sealed class MessagesApiTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task PlainReplyIsBilledExactlyItsSettledUsageAndRecordedAsMessages()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var message = await _app.Anthropic(account.Key).Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 60,
            System = "You are terse.",
            Messages = [new UserMessageParam { Content = "Say hello." }],
            Metadata = new Metadata { UserID = "end-user-42" },
        });

        Assert.Equal("glm-5", message.Model.Raw());
        Assert.StartsWith("msg_", message.ID);
        var text = Assert.Single(message.Content).Value as TextBlock;
        Assert.False(string.IsNullOrWhiteSpace(text!.Text));
        Assert.Contains(message.StopReason!.Raw(), new[] { "end_turn", "max_tokens" });

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, 200, "end-user-42"), (record.Api, record.Status, record.EndUser));
        Assert.Equal((record.PromptTokens, record.CompletionTokens), ((int)message.Usage.InputTokens, (int)message.Usage.OutputTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        Assert.True(record.CostMicros > 0);
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task StreamSendsAnthropicsEventSequenceWithTheSettledUsage()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in _app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 40,
            Messages = [new UserMessageParam { Content = "Tell me something." }],
        }))
        {
            events.Add(e);
        }

        var kinds = events.Select(Kind).ToList();
        Assert.Equal("message_start", kinds[0]);
        Assert.Equal("content_block_start", kinds[1]);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], kinds[^3..]);
        Assert.All(kinds[2..^3], k => Assert.Equal("content_block_delta", k));
        Assert.True(kinds.Count > 5);
        var text = string.Concat(events.Select(e => e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickText(out var t) ? t.Text : ""));
        Assert.False(string.IsNullOrWhiteSpace(text));

        Assert.True(events[^2].TryPickDelta(out var delta));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, true), (record.Api, record.Stream));
        Assert.Equal(record.CompletionTokens, (int)delta!.Usage.OutputTokens);
        Assert.Equal(record.PromptTokens, (int)delta.Usage.InputTokens!);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task ToolLoopGoesFromToolUseThroughToolResultToAnAnswer()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.Anthropic(account.Key);
        var weather = new Tool
        {
            Name = "get_weather",
            Description = "The weather in a city",
            InputSchema = new InputSchema
            {
                Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                Required = ["city"],
            },
        };
        var question = new MessageParam(new UserMessageParam { Content = "What's the weather in Paris?" });
        var first = await client.Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 200,
            Tools = [weather],
            ToolChoice = new ToolChoiceAny(),
            Messages = [question],
        });

        Assert.Equal("tool_use", first.StopReason!.Raw());
        var call = first.Content.Select(b => b.Value).OfType<ToolUseBlock>().Single();
        Assert.Equal("get_weather", call.Name);
        Assert.True(call.Input.ContainsKey("city"), "the tool input is the parsed arguments");

        var answer = await client.Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 200,
            Tools = [weather],
            Messages =
            [
                question,
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = call.ID, Content = "18 °C and sunny" } } },
            ],
        });

        Assert.Equal("end_turn", answer.StopReason!.Raw());
        Assert.Contains(answer.Content, b => b.Value is TextBlock);
        Assert.Equal(2, await _app.InStoreAsync(db => db.UsageRecords.CountAsync(r => r.UserId == account.UserId && r.Api == FrontDoor.Messages && r.Status == 200)));
    }

    [Fact]
    public async Task ThinkingComesBackAsThinkingBlocksWholeAndStreamed()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.Anthropic(account.Key);
        var request = new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 2048,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 1024 },
            System = new List<TextBlockParam> { new() { Text = "Think first." }, new() { Text = "Then answer." } },
            Messages = [new UserMessageParam { Content = "Why is the sky blue?" }],
        };

        var whole = await client.Messages.Create(request);
        Assert.IsType<ThinkingBlock>(whole.Content[0].Value);
        Assert.Contains(whole.Content, b => b.Value is TextBlock);

        var deltas = new List<string>();
        await foreach (var e in client.Messages.CreateStreaming(request))
        {
            if (e.TryPickContentBlockDelta(out var d))
            {
                deltas.Add(d.Delta.TryPickThinking(out _) ? "thinking" : d.Delta.TryPickText(out _) ? "text" : "other");
            }
        }

        Assert.Equal("thinking", deltas[0]);
        Assert.Contains("text", deltas);
        Assert.DoesNotContain("other", deltas);
    }

    [Fact]
    public async Task ImagesAreSentOnAsImageParts()
    {
        var account = await _app.CreateApiAccountAsync();
        var message = await _app.Anthropic(account.Key).Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 20,
            Messages =
            [
                new UserMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new ImageBlockParam { Source = new Base64ImageSource { Data = "iVBORw0KGgo=", MediaType = MediaType.ImagePng } },
                        new ImageBlockParam { Source = new UrlImageSource { Url = "https://example.test/cat.png" } },
                        new TextBlockParam { Text = "What is in these pictures?" },
                    },
                },
            ],
        });

        Assert.Contains(message.Content, b => b.Value is TextBlock);
    }

    [Fact]
    public async Task ErrorsAreAnthropicsEnvelopeAndStatuses()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var hello = new MessageCreateParams { Model = "glm-5", MaxTokens = 20, Messages = [new UserMessageParam { Content = "Hi" }] };

        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => _app.Anthropic("sk-portal-nope").Messages.Create(hello));
        await Assert.ThrowsAsync<AnthropicNotFoundException>(() => _app.Anthropic(account.Key).Messages.Create(hello with { Model = "no-such-model" }));

        var client = _app.ApiClient(account.Key);
        async Task<JsonNode> Error(HttpResponseMessage response, int status, string type)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"expected {status}: {(int)response.StatusCode} {text}");
            var json = JsonNode.Parse(text)!;
            Assert.Equal("error", json["type"]!.GetValue<string>());
            Assert.Equal(type, json["error"]!["type"]!.GetValue<string>());
            return json["error"]!;
        }

        var missing = await Error(await client.PostMessagesAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}]}"""), 400, "invalid_request_error");
        Assert.Contains("max_tokens", missing["message"]!.GetValue<string>());
        var badBlock = await Error(await client.PostMessagesAsync("""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video"}]}]}"""), 400, "invalid_request_error");
        Assert.Contains("messages[0].content[0].type", badBlock["message"]!.GetValue<string>());
        await Error(await client.PostMessagesAsync("{not json"), 400, "invalid_request_error");
        await Error(await _app.CreateClient().PostMessagesAsync("{}"), 401, "authentication_error");

        // Too little credit for the worst case: Anthropic's billing_error.
        var poor = await _app.CreateApiAccountAsync(credits: 0.000001m);
        var broke = await Error(await _app.ApiClient(poor.Key).PostMessagesAsync("""{"model":"glm-5","max_tokens":4000,"messages":[{"role":"user","content":"Hi"}]}"""), 402, "billing_error");
        Assert.Contains("max_tokens", broke["message"]!.GetValue<string>());
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == poor.UserId && e.Kind == LedgerKind.Charge)));

        // Every refused request is recorded as the Messages API's.
        var refused = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).Select(r => new { r.Api, r.Status }).ToListAsync());
        Assert.All(refused, r => Assert.Equal(FrontDoor.Messages, r.Api));
        Assert.Contains(refused, r => r.Status == 404);
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task RateLimitIsAnthropics429WithItsHeadersBesidePortals()
    {
        var account = await _app.CreateApiAccountAsync(key: new Portal.ApiKeys.NewApiKey("slow", RateLimitPerMinute: 1));
        var client = _app.Anthropic(account.Key);
        var hello = new MessageCreateParams { Model = "glm-5", MaxTokens = 5, Messages = [new UserMessageParam { Content = "Hi" }] };
        await client.Messages.Create(hello);

        var limited = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(hello));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);

        var response = await _app.ApiClient(account.Key).PostMessagesAsync("""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("1", response.Headers.GetValues("anthropic-ratelimit-requests-limit").Single());
        Assert.Equal("0", response.Headers.GetValues("anthropic-ratelimit-requests-remaining").Single());
        Assert.True(DateTimeOffset.TryParse(response.Headers.GetValues("anthropic-ratelimit-requests-reset").Single(), out _));
        Assert.Equal("1", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("rate_limit_error", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task CountTokensAnswersPortalsRuleAndChargesNothing()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var count = await _app.Anthropic(account.Key).Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "glm-5",
            System = "Be brief.",
            Messages = [new UserMessageParam { Content = "Hello there" }],
        });

        // 3 per request, 4 per message, and the text: "Be brief." = Be, brie, f, "." and "Hello there" = Hell, o, ther, e (Portal's token rule).
        Assert.Equal(3 + 4 + 4 + 4 + 4, count.InputTokens);

        // With thinking (whose budget must be below max_tokens, which count_tokens does not take).
        var thinking = await _app.Anthropic(account.Key).Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "glm-5",
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
            Messages = [new UserMessageParam { Content = "Hello there" }],
        });
        Assert.Equal(3 + 4 + 4, thinking.InputTokens);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(0, await _app.InStoreAsync(db => db.UsageRecords.CountAsync(r => r.UserId == account.UserId)));
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == account.UserId && e.Kind != LedgerKind.Grant)));
    }

    [Fact]
    public async Task AnAdminsAliasWorksThroughMessagesAndChatCompletionsAndTheReplyNamesWhatWasSent()
    {
        await _app.InStoreAsync(async db =>
        {
            var model = await db.Models.SingleAsync(m => m.Id == "glm-5");
            model.Aliases = string.Join(", ", new[] { model.Aliases, "claude-sonnet-4-5" }.Where(a => a.Length > 0));
            return await db.SaveChangesAsync();
        });
        _app.Services.GetRequiredService<Portal.Catalog.ModelCatalog>().Invalidate();
        var account = await _app.CreateApiAccountAsync();

        var message = await _app.Anthropic(account.Key).Messages.Create(new MessageCreateParams
        {
            Model = "Claude-Sonnet-4-5",
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "Hi" }],
        });
        Assert.Equal("Claude-Sonnet-4-5", message.Model.Raw());

        var chat = await _app.OpenAiChat(account.Key, "claude-sonnet-4-5").CompleteChatAsync("Hi");
        Assert.Equal("glm-5", chat.Value.Model); // chat completions names the catalog model, as it always has

        var models = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).Select(r => r.ModelId).ToListAsync());
        Assert.Equal(["glm-5", "glm-5"], models);
    }

    private static string Kind(RawMessageStreamEvent e) =>
        e.TryPickStart(out _) ? "message_start"
        : e.TryPickContentBlockStart(out _) ? "content_block_start"
        : e.TryPickContentBlockDelta(out _) ? "content_block_delta"
        : e.TryPickContentBlockStop(out _) ? "content_block_stop"
        : e.TryPickDelta(out _) ? "message_delta"
        : e.TryPickStop(out _) ? "message_stop"
        : "other";
}
