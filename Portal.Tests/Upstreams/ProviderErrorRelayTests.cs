using System.ClientModel;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI.Chat;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>
/// A provider's error status reaches the client truthfully (ADR 21): its refusal of the request as that
/// refusal, in its words, tried nowhere else and not charged; its refusal of Portal's own configuration
/// as 502, told to the operator in the log.
/// </summary>
public sealed class ProviderErrorRelayTests : IDisposable
{
    private const string UpstreamKey = "sk-upstream-secret-relay-0001";
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100}""";
    private const string HelloStream = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}""";

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private static UpstreamReply Answer() => Reply.Stream(Chunks.Content("Hi!", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 2));

    private static UpstreamReply ContextLengthExceeded(string message) => Reply.Status(400, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = "invalid_request_error",
            ["param"] = "messages",
            ["code"] = "context_length_exceeded",
        },
    });

    [Fact]
    public async Task ProvidersContextLengthErrorReachesTheSdkAs400InItsWordsOnceAndCostsNothing()
    {
        await using var provider = await FakeUpstream.StartAsync(ContextLengthExceeded(
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages."));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        var refusing = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey, priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        // The official SDK retries a 502 (twice by default): a 400 it gives up on at once.
        var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
            _app.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 100 }));

        Assert.Equal(400, failure.Status);
        Assert.Contains("maximum context length is 8192 tokens", failure.Message);
        Assert.Contains("context_length_exceeded", failure.Message);
        Assert.Single(provider.Requests);
        Assert.Empty(backup.Requests); // every provider would refuse it alike
        var summary = await _app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId);
        Assert.Equal((Money.FromUsd(1m), 0L), (summary.BalanceMicros, summary.OnHoldMicros));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((400, "context_length_exceeded", 0L, $"{refusing.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.Upstream));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task TheRelayedEnvelopeCarriesTheProvidersMessageTypeParamAndCodeWithSecretsRedacted()
    {
        // The provider names its own URL (with credentials), Portal's key, and runs on far too long.
        await using var refusing = await FakeUpstream.StartAsync((http, cancellationToken) =>
        {
            var self = $"http://{http.Request.Host}/v1";
            var message = $"Invalid 'temperature' for key {UpstreamKey} at {self}/chat/completions (see http://admin:hunter2@{http.Request.Host}/logs)";
            return Reply.Status(400, new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = message + new string('!', 5000), ["type"] = "invalid_request_error", ["param"] = "temperature", ["code"] = "invalid_value" },
            })(http, cancellationToken);
        });
        await _app.AddUpstreamAsync("glm-5", refusing.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        var error = await GatewayFixtures.AssertErrorAsync(response, 400, "invalid_value", "temperature");
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        var text = error["message"]!.GetValue<string>();
        Assert.StartsWith("Invalid 'temperature' for key [redacted] at [upstream]", text);
        Assert.DoesNotContain(UpstreamKey, text);
        Assert.DoesNotContain("hunter2", text);
        Assert.DoesNotContain(new Uri(refusing.BaseUrl).Host, text);
        Assert.True(text.Length <= 1001, $"message of {text.Length} characters");
    }

    [Fact]
    public async Task AProviderErrorWithoutACodeIsRelayedWithANullCode()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(400, "Unsupported value: 'logit_bias'"));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.JsonBodyAsync())["error"]!.AsObject();
        Assert.Equal(("Unsupported value: 'logit_bias'", "invalid_request_error"), (error["message"]!.GetValue<string>(), error["type"]!.GetValue<string>()));
        Assert.True(error.ContainsKey("code") && error["code"] is null, error.ToJsonString());
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((400, "invalid_request_error"), (record.Status, record.ErrorCode));
    }

    [Theory]
    [InlineData(422, 400)]
    [InlineData(413, 413)]
    public async Task UnprocessableAndTooLargeAreRelayedAs400And413(int providerStatus, int expected)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Status(providerStatus, new JsonObject
        {
            ["object"] = "error", // vLLM's shape: the fields at the top level
            ["message"] = "Input is too long for this model.",
            ["type"] = "BadRequestError",
            ["param"] = null,
            ["code"] = providerStatus,
        }));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        var error = await GatewayFixtures.AssertErrorAsync(response, expected, providerStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(("Input is too long for this model.", "BadRequestError"), (error["message"]!.GetValue<string>(), error["type"]!.GetValue<string>()));
        Assert.Single(provider.Requests);
        Assert.Empty(backup.Requests);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task AStreamRefusedBeforeItsFirstByteGetsThe400AsJsonNotAnEvent()
    {
        await using var provider = await FakeUpstream.StartAsync(ContextLengthExceeded("Too many tokens."));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(HelloStream);

        var error = await GatewayFixtures.AssertErrorAsync(response, 400, "context_length_exceeded", "messages");
        Assert.Equal("Too many tokens.", error["message"]!.GetValue<string>());
        var sdk = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in _app.OpenAiChat(account.Key).CompleteChatStreamingAsync([new UserChatMessage("Hello")]))
            {
            }
        });
        Assert.Equal(400, sdk.Status);
        Assert.Equal(2, provider.Requests.Count); // one per request: neither retried
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.All(records, r => Assert.Equal((400, "context_length_exceeded", 0L, true), (r.Status, r.ErrorCode, r.CostMicros, r.Stream)));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task ProviderRefusingPortalsKeyIs502AndToldToTheOperatorWithoutTheKey(int status)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Status(status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = $"Incorrect API key provided: {UpstreamKey}.", ["type"] = "invalid_request_error", ["code"] = "invalid_api_key" },
        }));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        var error = await GatewayFixtures.AssertErrorAsync(response, 502, "upstream_error");
        Assert.DoesNotContain("invalid_api_key", error.ToJsonString()); // the client's key is fine: not its error
        Assert.DoesNotContain(UpstreamKey, error.ToJsonString());
        Assert.Single(provider.Requests);
        var told = Assert.Single(_app.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains($"answered HTTP {status}", StringComparison.Ordinal));
        Assert.Contains($"Upstream {upstream.Id} (upstream-glm-5)", told.Message);
        Assert.Contains("check its API key", told.Message);
        Assert.All(_app.Logs.Entries, e => Assert.DoesNotContain(UpstreamKey, e.AllText()));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((502, "upstream_error", 0L), (record.Status, record.ErrorCode, record.CostMicros));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(404)]
    public async Task AnUpstreamMisconfiguredByTheOperatorGivesWayToTheNext(int status)
    {
        await using var misconfigured = await FakeUpstream.StartAsync(Reply.Error(status, "The model `upstream-glm-5` does not exist or you do not have access to it."));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        await _app.AddUpstreamAsync("glm-5", misconfigured.BaseUrl, "upstream-glm-5", UpstreamKey, priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(misconfigured.Requests); // not asked again: it would answer the same
        Assert.Single(backup.Requests);
        Assert.Contains(_app.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains($"answered HTTP {status}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProviderWithoutTheModelIs502NotTheClients404()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(404, "The model `upstream-glm-5` does not exist."));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        await GatewayFixtures.AssertErrorAsync(response, 502, "upstream_error");
        Assert.Contains(_app.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("check its base URL and upstream model name", StringComparison.Ordinal));
    }
}
