using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Docs;
using Portal.Gateway;
using Portal.Tests.Docs;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.RateLimits;

/// <summary>
/// Tokens per minute (ADR 33) through the official OpenAI SDK and the other front doors: the worst case is
/// taken on the hold, the unused part given back at settlement, the bucket refills with the clock, and
/// the headers say where it stands. Limits here divide 60,000,000 µs evenly, so the figures are exact.
/// </summary>
public sealed class TokenRateLimitTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task SpentTokensGet429NamingTokensPerMinuteAndTheBucketRefillsWithTheClock()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 600));
        var chat = Sdk(account.Key);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 50 };

        // Each request holds its worst case and keeps what it used: the bucket goes down by the usage.
        var used = 0L;
        long? worstCase = null;
        ClientResultException? refused = null;
        for (var i = 0; i < 60 && refused is null; i++)
        {
            try
            {
                var reply = await chat.CompleteChatAsync([new UserChatMessage("Count to three.")], options);
                var headers = reply.GetRawResponse().Headers;
                Assert.Equal("600", Header(headers, "x-ratelimit-limit-tokens"));
                var remaining = long.Parse(Header(headers, "x-ratelimit-remaining-tokens"));
                worstCase ??= 600 - remaining;
                Assert.Equal(600 - used - worstCase, remaining);
                used += reply.Value.Usage.TotalTokenCount;
            }
            catch (ClientResultException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(429, refused.Status);
        var raw = refused.GetRawResponse()!;
        Assert.Contains("600 tokens per minute (TPM)", raw.Content.ToString());
        Assert.Equal("rate_limit_exceeded", JsonNode.Parse(raw.Content.ToString())!["error"]!["code"]!.GetValue<string>());
        Assert.True(600 - used < worstCase); // refused only once the request no longer fits
        Assert.Equal((600 - used).ToString(), Header(raw.Headers, "x-ratelimit-remaining-tokens"));
        // Retry-After: the time until the worst case fits, at 10 tokens a second.
        var wait = TimeSpan.FromSeconds(int.Parse(Header(raw.Headers, "Retry-After")));
        Assert.Equal(TimeSpan.FromSeconds(Math.Ceiling((worstCase!.Value - (600 - used)) / 10.0)), wait);

        _app.Time.Advance(wait);
        var after = await chat.CompleteChatAsync([new UserChatMessage("Count to three.")], options);
        Assert.Equal((long)(600 - used + wait.TotalSeconds * 10 - worstCase.Value), long.Parse(Header(after.GetRawResponse().Headers, "x-ratelimit-remaining-tokens")));

        _app.Time.Advance(TimeSpan.FromMinutes(1)); // a full minute refills the bucket whatever it held
        var full = await chat.CompleteChatAsync([new UserChatMessage("Count to three.")], options);
        Assert.Equal(600 - worstCase, long.Parse(Header(full.GetRawResponse().Headers, "x-ratelimit-remaining-tokens")));
        // Full again once the worst case has refilled, at 10 tokens a second.
        Assert.Equal($"{Math.Ceiling(worstCase.Value / 10.0)}s", Header(full.GetRawResponse().Headers, "x-ratelimit-reset-tokens"));
    }

    [Fact]
    public async Task SettlementGivesBackWhatABigMaxTokensDidNotUse()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 2000));
        var chat = Sdk(account.Key);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 1500 };

        var first = await chat.CompleteChatAsync([new UserChatMessage("Say hi.")], options);
        var worstCase = 2000 - long.Parse(Header(first.GetRawResponse().Headers, "x-ratelimit-remaining-tokens"));
        Assert.InRange(worstCase, 1501, 2000);
        Assert.True(2 * worstCase > 2000); // without the give-back the second would not fit

        var second = await chat.CompleteChatAsync([new UserChatMessage("Say hi.")], options);

        Assert.Equal(2000 - first.Value.Usage.TotalTokenCount - worstCase, long.Parse(Header(second.GetRawResponse().Headers, "x-ratelimit-remaining-tokens")));
        Assert.Matches("^[0-9]+s$", Header(second.GetRawResponse().Headers, "x-ratelimit-reset-tokens"));
    }

    [Fact]
    public async Task TheModelsDefaultAppliesUnlessTheKeySetsItsOwnAndEachModelHasItsOwnBucket()
    {
        await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").ExecuteUpdateAsync(s => s.SetProperty(m => m.TokensPerMinute, 6000)));
        _app.Services.GetRequiredService<ModelCatalog>().Invalidate();
        var plain = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);
        var own = _app.ApiClient((await _app.CreateApiAccountAsync(key: new NewApiKey("own", TokensPerMinute: 3000))).Key);

        var byDefault = await plain.PostChatAsync(Body("glm-5", 100));
        var unlimited = await plain.PostChatAsync(Body("kimi-k2", 100));
        var overridden = await own.PostChatAsync(Body("glm-5", 100));
        var otherModel = await own.PostChatAsync(Body("kimi-k2", 100));

        Assert.Equal("6000", Header(byDefault, "x-ratelimit-limit-tokens"));
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.False(unlimited.Headers.Contains("x-ratelimit-limit-tokens")); // no limit on kimi-k2 for this key
        Assert.Equal("3000", Header(overridden, "x-ratelimit-limit-tokens"));
        Assert.Equal("3000", Header(otherModel, "x-ratelimit-limit-tokens"));
        // The same request holds the same worst case under either limit; on kimi-k2 (two bytes more of
        // model name) it comes out of a bucket of its own, untouched by glm-5's.
        var worstCase = 6000 - long.Parse(Header(byDefault, "x-ratelimit-remaining-tokens"));
        Assert.Equal(3000 - worstCase, long.Parse(Header(overridden, "x-ratelimit-remaining-tokens")));
        Assert.Equal(3000 - (worstCase + 2), long.Parse(Header(otherModel, "x-ratelimit-remaining-tokens")));
    }

    [Fact]
    public async Task ARequestLargerThanTheWholeLimitIs400SayingWhatFitsAndTakesNothing()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 600));
        var client = _app.ApiClient(account.Key);

        var tooBig = await client.PostChatAsync(Body("glm-5", 1000));
        var error = await AssertErrorAsync(tooBig, 400, "invalid_request_error", "max_tokens");
        var message = error["message"]!.GetValue<string>();
        Assert.Contains("limit of 600 tokens per minute (TPM) on 'glm-5'", message);
        Assert.Contains("Lower max_tokens to at most", message);

        var fits = await client.PostChatAsync(Body("glm-5", 10));
        var worstCase = 600 - long.Parse(Header(fits, "x-ratelimit-remaining-tokens"));
        Assert.InRange(worstCase, 11, 400);
        // The advice holds: within a few tokens (the digits of max_tokens count in the prompt's bound) of
        // the most that fits the whole limit, and a full bucket takes a request asking for it.
        var most = int.Parse(System.Text.RegularExpressions.Regex.Match(message, "at most ([0-9,]+)").Groups[1].Value.Replace(",", ""));
        Assert.InRange(most, 600 - (worstCase - 10) - 4, 600 - (worstCase - 10));
        _app.Time.Advance(TimeSpan.FromMinutes(1));
        var advised = await client.PostChatAsync(Body("glm-5", most));
        Assert.Equal(HttpStatusCode.OK, advised.StatusCode);
    }

    [Fact]
    public async Task ARequestRefusedForCreditsGivesItsTokensBack()
    {
        var account = await _app.CreateApiAccountAsync(credits: 0, key: new NewApiKey("tpm", TokensPerMinute: 600));
        var client = _app.ApiClient(account.Key);

        var broke = await client.PostChatAsync(Body("glm-5", 10));
        await AssertErrorAsync(broke, 402, "insufficient_quota");
        var worstCase = 600 - long.Parse(Header(broke, "x-ratelimit-remaining-tokens"));
        await _app.Services.GetRequiredService<Portal.Billing.CreditsLedger>().GrantAsync(account.UserId, 1_000_000, "test", actorId: null);

        var paid = await client.PostChatAsync(Body("glm-5", 10));

        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal((600 - worstCase).ToString(), Header(paid, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public async Task TheMessagesAndResponsesFrontDoorsShareTheBucketAndRefuseInTheirOwnEnvelopes()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 600));
        var client = _app.ApiClient(account.Key);

        var message = await client.PostAsync("/api/v1/messages", Json("""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, message.StatusCode);
        Assert.Equal("600", Header(message, "anthropic-ratelimit-tokens-limit"));
        Assert.Equal(Header(message, "x-ratelimit-remaining-tokens"), Header(message, "anthropic-ratelimit-tokens-remaining"));
        Assert.True(DateTimeOffset.TryParse(Header(message, "anthropic-ratelimit-tokens-reset"), out _));

        // Spend the bucket with small completions until less than 300 tokens are left once the last gives
        // back what it did not use (the headers show the room after the worst case is taken), then ask
        // the other doors for 300.
        var left = long.Parse(Header(message, "x-ratelimit-remaining-tokens"));
        while (left >= 150)
        {
            var small = await client.PostChatAsync(Body("glm-5", 5));
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
            left = long.Parse(Header(small, "x-ratelimit-remaining-tokens"));
        }

        var anthropic = await client.PostAsync("/api/v1/messages", Json("""{"model":"glm-5","max_tokens":300,"messages":[{"role":"user","content":"Hi"}]}"""));
        Assert.Equal(429, (int)anthropic.StatusCode);
        var envelope = JsonNode.Parse(await anthropic.Content.ReadAsStringAsync())!;
        Assert.Equal(("error", "rate_limit_error"), (envelope["type"]!.GetValue<string>(), envelope["error"]!["type"]!.GetValue<string>()));
        Assert.Contains("tokens per minute", envelope["error"]!["message"]!.GetValue<string>());
        Assert.NotNull(anthropic.Headers.RetryAfter);
        Assert.Equal("600", Header(anthropic, "anthropic-ratelimit-tokens-limit"));

        var responses = await client.PostAsync("/api/v1/responses", Json("""{"model":"glm-5","max_output_tokens":300,"input":"Hi"}"""));
        var error = await AssertErrorAsync(responses, 429, "rate_limit_exceeded");
        Assert.Contains("tokens per minute", error["message"]!.GetValue<string>());
        Assert.Equal("600", Header(responses, "x-ratelimit-limit-tokens"));
    }

    [Fact]
    public async Task AStreamCarriesTheTokenHeadersAndGivesBackAtItsEnd()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 2000));
        var client = _app.ApiClient(account.Key);

        var stream = await client.PostChatAsync("""{"model":"glm-5","stream":true,"messages":[{"role":"user","content":"Say hi."}],"max_tokens":1500}""");
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("2000", Header(stream, "x-ratelimit-limit-tokens"));
        var worstCase = 2000 - long.Parse(Header(stream, "x-ratelimit-remaining-tokens"));
        Assert.True(2 * worstCase > 2000);
        Assert.EndsWith("data: [DONE]", (await stream.Content.ReadAsStringAsync()).TrimEnd());

        // The stream kept only what it used: the same worst case fits again.
        var next = await client.PostChatAsync("""{"model":"glm-5","stream":true,"messages":[{"role":"user","content":"Say hi."}],"max_tokens":1500}""");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.InRange(long.Parse(Header(next, "x-ratelimit-remaining-tokens")), 0, 2000 - worstCase - 1);
    }

    [Fact]
    public async Task TheRateLimitsPageDocumentsTheTokenHeadersSentAndTheRealRefusal()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 40_000));

        var reply = await _app.ApiClient(account.Key).PostChatAsync(Body("glm-5", 10));

        var sent = reply.Headers.Select(h => h.Key.ToLowerInvariant()).Where(h => h.StartsWith("x-ratelimit-", StringComparison.Ordinal) && h.EndsWith("-tokens", StringComparison.Ordinal)).Order();
        var documented = DocsSource.TableRows(DocsSource.Page("rate-limits"), "Token header").Select(row => row[0].Trim('`')).Order();
        Assert.Equal(sent, documented);
        var refusal = ApiError.TokensRateLimited(TimeSpan.FromSeconds(9), 40_000, "glm-5", 9_120, 3_500);
        Assert.Contains($"\"message\": \"{refusal.Message}\"", DocsLibrary.Source(DocsSource.Page("rate-limits")));
    }

    private ChatClient Sdk(string key, string model = "glm-5") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(_app.Server.BaseAddress, "/api/v1"),
            Transport = new HttpClientPipelineTransport(_app.CreateClient()),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // a 429 is what is under test, not retried
        });

    private static string Body(string model, int maxTokens) =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Say hi."}],"max_tokens":{{maxTokens}}}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Header(PipelineResponseHeaders headers, string name) =>
        headers.TryGetValue(name, out var value) ? value! : throw new Xunit.Sdk.XunitException($"no {name} header");

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
