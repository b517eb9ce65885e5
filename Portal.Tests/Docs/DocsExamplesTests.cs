using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Docs;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Docs;

/// <summary>What the docs say, checked against what Portal does: every request example works, every
/// documented parameter is one Portal checks, every error code and billing fact is the real one.</summary>
public sealed class DocsExamplesTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    private Task<ApiAccount> FundedAccountAsync(decimal credits = 20m) =>
        _app.CreateApiAccountAsync(credits, new NewApiKey("docs examples", RateLimitPerMinute: 600));

    public static TheoryData<string> CurlExamples() => new(DocsSource.Curls().Select(c => c.ToString()));

    [Theory]
    [MemberData(nameof(CurlExamples))]
    public async Task EveryCurlExampleWorks(string example)
    {
        var curl = DocsSource.Curls().Single(c => c.ToString() == example);
        var account = await FundedAccountAsync();
        using var client = _app.ApiClient(account.Key);
        Assert.Contains("-H \"Authorization: Bearer $PORTAL_API_KEY\"", curl.Block.Code);

        HttpResponseMessage response;
        if (curl.Body is null)
        {
            response = await client.GetAsync("/api/v1" + curl.Path);
        }
        else
        {
            Assert.Contains("-H \"Content-Type: application/json\"", curl.Block.Code);
            Assert.Contains(curl.Path, (string[])["/chat/completions", "/messages", "/messages/count_tokens", "/responses"]);
            response = await client.PostAsync("/api/v1" + curl.Path, new StringContent(curl.Body, System.Text.Encoding.UTF8, "application/json"));
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{example} answered {(int)response.StatusCode}: {body}");
    }

    public static TheoryData<string> JsonRequestExamples() =>
        new(DocsSource.CodeBlocks("json").Where(b => b.IsMarked("request")).Select(b => b.ToString()));

    [Theory]
    [MemberData(nameof(JsonRequestExamples))]
    public async Task EveryJsonRequestExampleWorks(string example)
    {
        var block = DocsSource.CodeBlocks("json").Single(b => b.ToString() == example);
        var account = await FundedAccountAsync();
        using var client = _app.ApiClient(account.Key);

        var response = await client.PostChatAsync(block.Code);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{example} answered {(int)response.StatusCode}: {body}");
        Assert.Equal("chat.completion", JsonNode.Parse(body)!["object"]!.GetValue<string>());
    }

    [Fact]
    public void TheDocsHaveRequestExamplesToCheck()
    {
        Assert.True(DocsSource.Curls().Count(c => c.Body is not null) >= 4);
        Assert.True(DocsSource.Curls().Count(c => c.Body is null) >= 4);
        Assert.True(DocsSource.CodeBlocks("json").Count(b => b.IsMarked("request")) >= 6);
    }

    [Fact]
    public async Task EveryDocumentedParameterIsOneThePortalChecks()
    {
        var account = await FundedAccountAsync();
        using var client = _app.ApiClient(account.Key);
        var parameters = DocsSource.TableRows(DocsSource.Page("chat-completions"), "Parameter").Select(row => row[0]).ToList();

        // What ChatRequestValidator reads (see its source): the table must cover each of them.
        Assert.Equal(
            new[]
            {
                "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "seed", "stop", "n",
                "stream", "stream_options", "stream_options.include_usage", "tools", "tool_choice", "parallel_tool_calls",
                "response_format", "thinking", "reasoning_effort", "do_sample", "frequency_penalty", "presence_penalty",
                "logprobs", "top_logprobs", "request_id", "user", "user_id",
            }.Order(),
            parameters.Order());

        foreach (var parameter in parameters)
        {
            // A value of the wrong type must be refused and blamed on this very field: unknown
            // fields would be passed through instead, so this proves Portal checks it.
            var refused = false;
            foreach (var wrong in new JsonNode[] { new JsonObject(), JsonValue.Create("not valid here") })
            {
                var body = new JsonObject
                {
                    ["model"] = "glm-5",
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
                };
                var path = parameter.Split('.');
                var target = body;
                foreach (var segment in path[..^1])
                {
                    target = (JsonObject)(target[segment] ??= new JsonObject());
                }

                target[path[^1]] = wrong.DeepClone();
                var response = await client.PostChatAsync(body.ToJsonString());
                if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
                    Assert.StartsWith(parameter, error["param"]!.GetValue<string>());
                    refused = true;
                    break;
                }
            }

            Assert.True(refused, $"'{parameter}' is documented, but a wrong value for it was accepted");
        }
    }

    [Fact]
    public void TheErrorsTableIsExactlyTheErrorsPortalAnswers()
    {
        var rows = DocsSource.TableRows(DocsSource.Page("errors"), "Status")
            .Select(row => (Status: int.Parse(row[0], CultureInfo.InvariantCulture), Code: row[1], Type: row[2]))
            .ToList();
        // A provider's refusal is relayed with its own code and type (ADR 21): one row per status it may come with.
        var relayed = rows.Where(row => row.Code == ProvidersOwn).ToList();
        Assert.All(relayed, row => Assert.Equal(ProvidersOwn, row.Type));
        Assert.Equal(RelayedStatuses(), relayed.Select(row => row.Status).Order());
        var documented = rows.Except(relayed).ToHashSet();

        var actual = typeof(ApiError).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(ApiError))
            .Select(m => (ApiError)m.Invoke(null, m.GetParameters().Select(SampleArgument).ToArray())!)
            .Select(e => (e.Status, e.Code, e.Type))
            .ToHashSet();

        Assert.Equal(actual.Order(), documented.Order());
    }

    private const string ProvidersOwn = "the provider's";

    /// <summary>The statuses a provider's refusal reaches the client with, from the classification itself.</summary>
    private static IEnumerable<int> RelayedStatuses() =>
        Enumerable.Range(400, 100)
            .Select(status => Portal.Gateway.HttpUpstream.Classify(status, new Portal.Gateway.ProviderError("m", "t", "c", null)).Error)
            .Where(error => error.Relayed)
            .Select(error => error.Status)
            .Distinct()
            .Order();

    private static object SampleArgument(ParameterInfo parameter) => parameter.ParameterType switch
    {
        var t when t == typeof(string) => "x",
        var t when t == typeof(int) => 60,
        var t when t == typeof(long) => 8L * 1024 * 1024,
        var t when t == typeof(TimeSpan) => TimeSpan.FromSeconds(1),
        var t => throw new InvalidOperationException($"No sample for {t}"),
    };

    [Fact]
    public void TheRateLimitPagesMessageIsTheRealOne()
    {
        var error = ApiError.RateLimited(TimeSpan.FromSeconds(1), 60);

        Assert.Contains($"\"message\": \"{error.Message}\"", DocsLibrary.Source(DocsSource.Page("rate-limits")));
    }

    [Fact]
    public async Task TheDocumentedRateLimitHeadersAreTheOnesSent()
    {
        var account = await FundedAccountAsync();
        using var client = _app.ApiClient(account.Key);

        var response = await client.GetAsync("/api/v1/models");

        var sent = response.Headers.Select(h => h.Key.ToLowerInvariant()).Where(h => h.StartsWith("x-ratelimit-", StringComparison.Ordinal)).Order();
        var documented = DocsSource.TableRows(DocsSource.Page("rate-limits"), "Header").Select(row => row[0]).Order();
        Assert.Equal(sent, documented);
        Assert.True(response.Headers.Contains("x-request-id"));
    }

    [Fact]
    public async Task TheBillingPages402ExampleIsWhatPortalAnswers()
    {
        var account = await _app.CreateApiAccountAsync(credits: 0.01m);
        using var client = _app.ApiClient(account.Key);
        var billing = DocsSource.Page("billing");
        var request = DocsSource.CodeBlocks("json").Single(b => b.Page == billing && b.IsMarked("request"));

        var response = await client.PostChatAsync(request.Code);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var answered = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var documented = DocsSource.CodeBlocks("json").Where(b => b.Page == billing).Select(b => JsonNode.Parse(b.Code)!)
            .Single(json => json["error"] is not null);
        Assert.True(JsonNode.DeepEquals(documented, answered), $"Portal answered {answered.ToJsonString()}");

        var cheaper = JsonNode.Parse(request.Code)!;
        cheaper["max_tokens"] = 1500;
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(cheaper.ToJsonString())).StatusCode);
    }

    [Fact]
    public void TheBillingPagesWorkedExamplesAddUp()
    {
        var billing = DocsLibrary.Source(DocsSource.Page("billing"));

        Assert.Equal(3_550, Money.Cost(1_200, 350, Money.FromUsd(1.50m), Money.FromUsd(5.00m)));
        Assert.Contains("= 3,550 micro-dollars, that is **$0.00355**", billing);
        Assert.Equal(6, TokenEstimator.Count("Hello, world!"));
        Assert.Contains("`Hello, world!` counts as 6 tokens", billing);
        Assert.Equal(3, TokenEstimator.Count("lighthouse"));
        Assert.Contains("(`lighthouse`, 10 letters, is 3 tokens)", billing);
        Assert.Contains($"each message adds {TokenEstimator.PerMessage} tokens, and each request {TokenEstimator.PerRequest}", billing);
    }

    public static TheoryData<string> ResponseExamples() =>
        new(DocsSource.CodeBlocks("json").Where(b => b.IsMarked("response")).Select(b => b.ToString()));

    [Theory]
    [MemberData(nameof(ResponseExamples))]
    public async Task EveryResponseExamplesCostMatchesItsTokensAndTheModelsPrices(string example)
    {
        var block = DocsSource.CodeBlocks("json").Single(b => b.ToString() == example);
        var response = JsonNode.Parse(block.Code)!;
        var model = await _app.Services.GetRequiredService<ModelCatalog>().FindAsync(response["model"]!.GetValue<string>());
        Assert.NotNull(model);
        var usage = response["usage"]!;
        var (prompt, completion) = (usage["prompt_tokens"]!.GetValue<int>(), usage["completion_tokens"]!.GetValue<int>());

        Assert.Equal(prompt + completion, usage["total_tokens"]!.GetValue<int>());
        Assert.Equal(Money.ToUsd(Money.Cost(prompt, completion, model.InputPriceMicros, model.OutputPriceMicros)), usage["cost"]!.GetValue<decimal>());
        Assert.Equal("chat.completion", response["object"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheStreamingPagesEventsHaveTheShapePortalSends()
    {
        var account = await FundedAccountAsync();
        using var client = _app.ApiClient(account.Key);
        var documented = DocsSource.CodeBlocks("text").First(b => b.Page.Slug == "streaming").Code
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

        var response = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}""");
        var sent = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: [DONE]", documented[^1]);
        Assert.Equal(documented[^1], sent[^1]);
        // First chunk, a content chunk, the finish, the usage chunk: the same fields as Portal's.
        Assert.Equal(Shape(documented[0]), Shape(sent[0]));
        Assert.Equal(Shape(documented[1]), Shape(sent[1]));
        Assert.Equal(Shape(documented[^3]), Shape(sent[^3]));
        Assert.Equal(Shape(documented[^2]), Shape(sent[^2]));
    }

    /// <summary>The JSON's field paths, values left out.</summary>
    private static string Shape(string line)
    {
        Assert.StartsWith("data: ", line);
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        Walk(value, $"{path}.{key}");
                    }

                    break;
                case JsonArray a:
                    paths.Add(path + "[]");
                    foreach (var item in a)
                    {
                        Walk(item, path + "[]");
                    }

                    break;
                default:
                    paths.Add(path);
                    break;
            }
        }

        Walk(JsonNode.Parse(line["data: ".Length..]), "");
        return string.Join(' ', paths);
    }
}
