using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Data;

using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.Gateway;

public sealed class ApiErrorTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    public static TheoryData<string, int, string, string?> BadBodies => new()
    {
        { "{", 400, "invalid_request_error", null },
        { """{"model":"glm-5","model":"kimi-k2","messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", null },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x","role":"tool"}]}""", 400, "invalid_request_error", null },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":1e400}""", 400, "invalid_request_error", "max_tokens" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":99999999999999999999999}""", 400, "invalid_request_error", "max_tokens" },
        { "[1,2]", 400, "invalid_request_error", null },
        { """{"messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "model" },
        { """{"model":42,"messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "model" },
        { """{"model":"nope","messages":[{"role":"user","content":"x"}]}""", 404, "model_not_found", "model" },
        { """{"model":"glm-5"}""", 400, "invalid_request_error", "messages" },
        { """{"model":"glm-5","messages":[]}""", 400, "invalid_request_error", "messages" },
        { """{"model":"glm-5","messages":["hi"]}""", 400, "invalid_request_error", "messages[0]" },
        { """{"model":"glm-5","messages":[{"role":"robot","content":"x"}]}""", 400, "invalid_request_error", "messages[0].role" },
        { """{"model":"glm-5","messages":[{"role":"user"}]}""", 400, "invalid_request_error", "messages[0].content" },
        { """{"model":"glm-5","messages":[{"role":"user","content":[{"type":"audio"}]}]}""", 400, "invalid_request_error", "messages[0].content[0].type" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"},{"role":"tool","content":"42"}]}""", 400, "invalid_request_error", "messages[1].tool_call_id" },
        { """{"model":"glm-5","messages":[{"role":"system","content":"x"},{"role":"assistant","content":"y"}]}""", 400, "invalid_request_error", "messages" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", 400, "invalid_request_error", "max_tokens" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}""", 400, "invalid_request_error", "max_tokens" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"temperature":2.5}""", 400, "invalid_request_error", "temperature" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"top_p":0}""", 400, "invalid_request_error", "top_p" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}""", 400, "invalid_request_error", "stop" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"n":0}""", 400, "invalid_request_error", "n" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"stream":"yes"}""", 400, "invalid_request_error", "stream" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}""", 400, "invalid_request_error", "tools[0].function" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}""", 400, "invalid_request_error", "tool_choice" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}""", 400, "invalid_request_error", "response_format.type" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"thinking":{"type":"maybe"}}""", 400, "invalid_request_error", "thinking.type" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}""", 400, "invalid_request_error", "reasoning_effort" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"presence_penalty":-3}""", 400, "invalid_request_error", "presence_penalty" },
        { """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"request_id":"abc"}""", 400, "invalid_request_error", "request_id" },
        { """{"model":"deepseek-r1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}""", 400, "unsupported_parameter", "tools" },
        { """{"model":"kimi-k2","messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled"}}""", 400, "unsupported_parameter", "thinking" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task InvalidRequestsAreRefusedWithTheFieldNamedAndNothingCharged(string body, int status, string code, string? param)
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(body);

        await AssertErrorAsync(response, status, code, param);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task DeeplyNestedAndInvalidUtf8BodiesAreRefusedWith400()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.ApiClient(account.Key);

        await AssertErrorAsync(await client.PostChatAsync(new string('[', 5000) + new string(']', 5000)), 400, "invalid_request_error");
        var invalidUtf8 = new ByteArrayContent([.. "{\"model\":\"glm-5\",\"messages\":[{\"role\":\"user\",\"content\":\""u8, 0xff, 0xfe, .. "\"}]}"u8]);
        invalidUtf8.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertErrorAsync(await client.PostAsync("/api/v1/chat/completions", invalidUtf8), 400, "invalid_request_error");
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
    }

    [Theory]
    [InlineData("""{"model":"\ud83d","messages":[{"role":"user","content":"x"}]}""")]
    [InlineData("""{"model":"glm-5","messages":[{"role":"user","content":"x\udc00"}]}""")]
    [InlineData("""{"model":"glm-5","\ud83d":1,"messages":[{"role":"user","content":"x"}]}""")]
    public async Task AnUnpairedSurrogateEscapeIsRefusedWith400AndRecorded(string body)
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(body);

        var error = await AssertErrorAsync(response, 400, "invalid_request_error");
        Assert.Contains("surrogate", error["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal(400, record.Status);
    }

    [Fact]
    public async Task EscapedSurrogatePairsAreAccepted()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        // What Python's json.dumps writes for an emoji by default.
        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"hi \ud83d\ude00"}],"max_tokens":5}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownFieldsAndPassThroughToolTypesAreAccepted()
    {
        var account = await _app.CreateApiAccountAsync();
        var response = await _app.ApiClient(account.Key).PostChatAsync("""
            {"model":"glm-5","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}],
             "max_tokens":5,"tools":[{"type":"web_search","web_search":{"enable":true}}],"vendor_extra":{"anything":1},"user_id":"user-0001"}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task KeyLimitedToSomeModelsIsRefusedOthers()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("glm only", AllowedModels: ["glm-5"]));
        var client = _app.ApiClient(account.Key);

        await AssertErrorAsync(await client.PostChatAsync("""{"model":"kimi-k2","messages":[{"role":"user","content":"x"}]}"""), 403, "permission_denied", "model");
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync("""{"model":"zhipu/glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":3}""")).StatusCode);
    }

    [Fact]
    public async Task RoutesMethodsAndContentTypesAnswerInTheEnvelope()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        await AssertErrorAsync(await client.GetAsync("/api/v1/no-such-thing"), 404, "not_found");
        await AssertErrorAsync(await client.DeleteAsync("/api/v1/models"), 405, "method_not_allowed");
        await AssertErrorAsync(await client.GetAsync("/api/v1/models/no-such-model"), 404, "model_not_found", "model");
        var form = await client.PostAsync("/api/v1/chat/completions", new StringContent("model=glm-5", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await AssertErrorAsync(form, 415, "invalid_request_error");
        var huge = await client.PostChatAsync("{\"model\":\"glm-5\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 9 * 1024 * 1024) + "\"}]}");
        await AssertErrorAsync(huge, 413, "request_too_large");
    }

    [Fact]
    public async Task UnexpectedFailuresAnswer500InTheEnvelopeWithTheRequestId()
    {
        var store = new BreakableStore();
        using var broken = _app.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp => store.Wrap(sp.GetRequiredService<IDbContextFactory<SqlitePortalDbContext>>()))));
        var client = broken.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKeyService.KeyPrefix + new string('b', 40));
        store.Broken = true; // after start-up, which needs the store for its migrations

        var response = await client.GetAsync("/api/v1/models");

        var error = await AssertErrorAsync(response, 500, "internal_error");
        Assert.Contains(response.Headers.GetValues("x-request-id").Single(), error["message"]!.GetValue<string>());
        Assert.DoesNotContain("store is down", error.ToJsonString());
    }

    private sealed class BreakableStore
    {
        public volatile bool Broken;

        public IDbContextFactory<PortalDbContext> Wrap(IDbContextFactory<SqlitePortalDbContext> inner) => new Factory(this, inner);

        private sealed class Factory(BreakableStore store, IDbContextFactory<SqlitePortalDbContext> inner) : IDbContextFactory<PortalDbContext>
        {
            public PortalDbContext CreateDbContext() => store.Broken ? throw new InvalidOperationException("store is down") : inner.CreateDbContext();
        }
    }
}
