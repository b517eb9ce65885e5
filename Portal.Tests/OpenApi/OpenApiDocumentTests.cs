using Portal.Status;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Portal.ApiKeys;
using Portal.Gateway;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Organizations;
using Portal.Tests.Upstreams;

namespace Portal.Tests.OpenApi;

/// <summary>
/// The OpenAPI document at /api/v1/openapi.json, and real replies checked against it: each body is
/// validated against the schema the document gives for its operation, status and media type.
/// </summary>
public sealed class OpenApiDocumentTests : IDisposable
{
    private const string Chat = "/chat/completions";
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":20}""";

    private static readonly string[] EveryOperationsErrors = ["401", "429", "500", "503"];

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task DocumentIsOpenApi31AndDescribesExactlyTheApiOperations()
    {
        var response = await _app.CreateClient().GetAsync(GatewayOpenApi.Path); // no key
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("public", response.Headers.CacheControl?.ToString());
        var json = await response.Content.ReadAsStringAsync();

        // A valid OpenAPI 3.1 document, as the reference reader sees it.
        var read = OpenApiDocument.Parse(json, "json");
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic?.SpecificationVersion);

        var document = JsonNode.Parse(json)!.AsObject();
        Assert.StartsWith("3.1.", document["openapi"]!.GetValue<string>());
        Assert.Equal("/api/v1", document["servers"]![0]!["url"]!.GetValue<string>());
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => $"{op.Key.ToUpperInvariant()} {path.Key}"))
            .Order();
        Assert.Equal(["DELETE /responses/{id}", "GET /credits", "GET /key", "GET /models", "GET /models/{id}", "GET /responses/{id}", "GET /usage", "POST /chat/completions", "POST /messages", "POST /messages/count_tokens", "POST /responses"], operations);

        var bearer = document["components"]!["securitySchemes"]!["bearer"]!;
        Assert.Equal(("http", "bearer"), (bearer["type"]!.GetValue<string>(), bearer["scheme"]!.GetValue<string>()));
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var where = $"{method} {path}";
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"bearer":[]}]"""), operation!["security"]), $"{where} does not ask for the key");
                var responses = operation["responses"]!.AsObject();
                // The Messages API answers in Anthropic's envelope, with 529 where the others say 503.
                var anthropic = path.StartsWith("/messages", StringComparison.Ordinal);
                Assert.All(anthropic ? ["401", "429", "500", "529"] : EveryOperationsErrors, status => Assert.True(responses.ContainsKey(status), $"{where} has no {status}"));
                foreach (var (status, described) in responses.Where(r => r.Key != "200"))
                {
                    Assert.Equal(anthropic ? "#/components/schemas/MessagesError" : "#/components/schemas/ErrorEnvelope", described!["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>());
                    Assert.NotNull(described["headers"]?["x-request-id"]);
                }
            }
        }

        // The statuses each handler really answers with, beyond the key filter's and the 500.
        string[] ChatErrors(string method, string path) => document["paths"]![path]![method]!["responses"]!.AsObject()
            .Select(r => r.Key).Except(["200", .. EveryOperationsErrors]).Order().ToArray();
        Assert.Equal(["400", "402", "403", "404", "408", "413", "415", "502", "504"], ChatErrors("post", Chat));
        Assert.Equal(["400", "402", "403", "404", "408", "413", "415", "502", "504"], ChatErrors("post", "/responses"));
        Assert.Equal(["404"], ChatErrors("get", "/models/{id}"));
        Assert.Empty(ChatErrors("get", "/models"));
        Assert.Empty(ChatErrors("get", "/credits"));
        Assert.Empty(ChatErrors("get", "/key"));
        Assert.Equal(["400"], ChatErrors("get", "/usage"));
        Assert.Equal(["400", "402", "403", "404", "413", "415", "502", "504", "529"], ChatErrors("post", "/messages"));
        Assert.Equal(["400", "402", "403", "404", "413", "415", "529"], ChatErrors("post", "/messages/count_tokens"));
    }

    [Fact]
    public async Task ModelsCreditsAndKeyRepliesMatchTheirSchemas()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        // A key with every optional field set, used once so that last_used is set too.
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("full", RateLimitPerMinute: 100, SpendCapMicros: Money.FromUsd(2m), AllowedModels: ["glm-5", "kimi-k2"],
            Budget: new KeyBudget(BudgetPeriod.Week, Money.FromUsd(1m), "Europe/Berlin")));
        var client = _app.ApiClient(account.Key);
        var plain = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);

        var models = await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/models"), "get", "/models");
        Assert.Contains("\"glm-5\"", models);
        await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/models/glm-5"), "get", "/models/{id}");
        await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/models/zhipu/glm-5"), "get", "/models/{id}");
        var missing = await client.GetAsync("/api/v1/models/no-such-model");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await contract.AssertReplyMatchesAsync(missing, "get", "/models/{id}");
        await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/credits"), "get", "/credits");
        await contract.AssertReplyMatchesAsync(await plain.GetAsync("/api/v1/key"), "get", "/key");
        var key = await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/key"), "get", "/key");
        Assert.Contains("\"last_used\"", key);
        Assert.Contains("\"allowed_models\"", key);
        Assert.Contains("\"time_zone\":\"Europe/Berlin\"", key);
        // An organization key whose member has a budget of their own.
        var organization = await _app.CreateOrganizationAsync(credits: 1m);
        var member = await _app.AddMemberWithKeyAsync(organization);
        Assert.True((await _app.Services.GetRequiredService<OrganizationMembers>().SetBudgetAsync(OrganizationFixtures.ActorFor(organization.OwnerId), organization.Id,
            member.UserId, new KeyBudget(BudgetPeriod.Month, Money.FromUsd(3m)))).Done);
        var organizationKey = await contract.AssertReplyMatchesAsync(await _app.ApiClient(member.Key).GetAsync("/api/v1/key"), "get", "/key");
        Assert.Contains("\"member_budget\":{", organizationKey);

        // Two requests to list (a reply is sent once its usage record has committed), one per page.
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);
        var usage = await contract.AssertReplyMatchesAsync(await client.GetAsync("/api/v1/usage?limit=1"), "get", "/usage");
        Assert.Contains("\"has_more\":true", usage);
        var badLimit = await client.GetAsync("/api/v1/usage?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        await contract.AssertReplyMatchesAsync(badLimit, "get", "/usage");

        var anonymous = await _app.CreateClient().GetAsync("/api/v1/credits");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await contract.AssertReplyMatchesAsync(anonymous, "get", "/credits");

        await _app.Services.GetRequiredService<ApiSwitch>().SetAsync(false);
        var off = await client.GetAsync("/api/v1/models");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, off.StatusCode);
        await contract.AssertReplyMatchesAsync(off, "get", "/models");
    }

    [Fact]
    public async Task ChatCompletionRepliesMatchTheirSchemas()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        async Task<string> Post(HttpClient from, string body, HttpStatusCode expected, string contentType = "application/json")
        {
            var response = await from.PostAsync("/api/v1" + Chat, new StringContent(body, Encoding.UTF8, contentType));
            Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return await contract.AssertReplyMatchesAsync(response, "post", Chat);
        }

        var plain = await Post(client, Hello, HttpStatusCode.OK);
        Assert.Contains("\"chat.completion\"", plain);
        // Tool calls, reasoning, n > 1 and the usage details: the reply's optional parts.
        var tools = await Post(client, """
            {"model":"glm-5","messages":[{"role":"user","content":"Weather in Paris?"}],"n":2,"max_tokens":60,
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"required"}
            """, HttpStatusCode.OK);
        Assert.Contains("\"tool_calls\"", tools);
        var reasoning = await Post(client, """{"model":"deepseek-r1","messages":[{"role":"user","content":"Why is the sky blue?"}],"max_tokens":40}""", HttpStatusCode.OK);
        Assert.Contains("\"reasoning_content\"", reasoning);

        await Post(client, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"temperature":3}""", HttpStatusCode.BadRequest);
        await Post(client, """{"model":"deepseek-r1","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}""", HttpStatusCode.BadRequest);
        await Post(client, "{not json", HttpStatusCode.BadRequest);
        await Post(_app.CreateClient(), Hello, HttpStatusCode.Unauthorized);
        await Post(_app.ApiClient((await _app.CreateApiAccountAsync(credits: 0m)).Key), Hello, HttpStatusCode.PaymentRequired);
        await Post(_app.ApiClient((await _app.CreateApiAccountAsync(key: new NewApiKey("kimi only", AllowedModels: ["kimi-k2"]))).Key), Hello, HttpStatusCode.Forbidden);
        await Post(client, """{"model":"no-such-model","messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.NotFound);
        await Post(client, new string(' ', (int)ChatBodyReader.MaxBodyBytes + 1), HttpStatusCode.RequestEntityTooLarge);
        await Post(client, Hello, HttpStatusCode.UnsupportedMediaType, "text/plain");
        var limited = _app.ApiClient((await _app.CreateApiAccountAsync(key: new NewApiKey("one a minute", RateLimitPerMinute: 1))).Key);
        await Post(limited, Hello, HttpStatusCode.OK);
        await Post(limited, Hello, HttpStatusCode.TooManyRequests);

        // A provider that refuses Portal's key: 502 in the envelope; one that refuses the request: its 400, relayed.
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(401, "no"));
        await _app.AddUpstreamAsync("kimi-k2", provider.BaseUrl, "upstream-kimi");
        await Post(client, """{"model":"kimi-k2","messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadGateway);
        await using var refusing = await FakeUpstream.StartAsync(Reply.Error(400, "no"));
        await _app.AddUpstreamAsync("deepseek-r1", refusing.BaseUrl, "upstream-r1");
        await Post(client, """{"model":"deepseek-r1","messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task StreamedRepliesMatchTheDocument()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        var client = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);
        var dataSchema = contract.ResponseSchema("post", Chat, 200, "text/event-stream")[..^"/schema".Length] + "/" + GatewayOpenApi.StreamDataExtension;
        Assert.NotNull(contract.At(dataSchema));

        var response = await client.PostChatStreamingAsync("""
            {"model":"glm-5","messages":[{"role":"user","content":"Stream a short answer."}],"max_tokens":20,"stream":true,"stream_options":{"include_usage":true}}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        contract.ResponseSchema("post", Chat, 200, response.Content.Headers.ContentType!.MediaType!);
        using var stream = await SseReader.OpenAsync(response);
        var events = await stream.RestAsync();
        Assert.True(events.Count > 3, $"only {events.Count} events");
        Assert.Equal("[DONE]", events[^1]);
        Assert.All(events[..^1], data => contract.AssertValid(dataSchema, data));
        Assert.Contains("\"usage\"", events[^2]);

        // A provider that breaks off mid-stream: the last event is the error envelope.
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamWithoutDone(Chunks.Content("Half an ans")));
        await _app.AddUpstreamAsync("kimi-k2", provider.BaseUrl, "upstream-kimi");
        using var broken = await SseReader.OpenAsync(await client.PostChatStreamingAsync("""{"model":"kimi-k2","messages":[{"role":"user","content":"Hi"}],"stream":true}"""));
        var brokenEvents = await broken.RestAsync();
        Assert.Contains("\"error\"", brokenEvents[^1]);
        // The chunks before it are the provider's, with its own fields (system_fingerprint…) passed on
        // as it wrote them (ADR 24): the document cannot list them all. The error envelope is Portal's.
        contract.AssertValid(dataSchema, brokenEvents[^1]);
    }

    [Fact]
    public async Task ResponsesRepliesAndEventsMatchTheDocument()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        var client = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);
        async Task<string> Post(string body, HttpStatusCode expected)
        {
            var response = await client.PostAsync("/api/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return await contract.AssertReplyMatchesAsync(response, "post", "/responses");
        }

        var created = await Post("""{"model":"glm-5","input":"Hello","max_output_tokens":20}""", HttpStatusCode.OK);
        Assert.Contains("\"object\":\"response\"", created);
        // Stored (ADR 32): fetched and deleted as the document says, then not found.
        var id = JsonNode.Parse(created)!["id"]!.GetValue<string>();
        Assert.Equal(created, await contract.AssertReplyMatchesAsync(await client.GetAsync($"/api/v1/responses/{id}"), "get", "/responses/{id}"));
        Assert.Contains("\"deleted\":true", await contract.AssertReplyMatchesAsync(await client.DeleteAsync($"/api/v1/responses/{id}"), "delete", "/responses/{id}"));
        var gone = await client.GetAsync($"/api/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await contract.AssertReplyMatchesAsync(gone, "get", "/responses/{id}");
        Assert.Contains("\"function_call\"", await Post("""
            {"model":"glm-5","input":"Weather?","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":"required"}
            """, HttpStatusCode.OK));
        Assert.Contains("\"reasoning\"", await Post("""{"model":"deepseek-r1","input":"Why?","max_output_tokens":60}""", HttpStatusCode.OK));
        await Post("""{"model":"glm-5","input":"Hi","tools":[{"type":"file_search"}]}""", HttpStatusCode.BadRequest);
        await Post("""{"model":"no-such-model","input":"Hi"}""", HttpStatusCode.NotFound);

        var dataSchema = contract.ResponseSchema("post", "/responses", 200, "text/event-stream")[..^"/schema".Length] + "/" + GatewayOpenApi.StreamDataExtension;
        var stream = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/responses")
        {
            Content = new StringContent("""{"model":"glm-5","input":"Stream a short answer.","max_output_tokens":20,"stream":true}""", Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = await SseReader.OpenAsync(stream);
        var events = await reader.RestAsync();
        Assert.True(events.Count > 5, $"only {events.Count} events");
        Assert.All(events, data => contract.AssertValid(dataSchema, data));
        var last = JsonNode.Parse(events[^1])!;
        Assert.Equal("response.incomplete", last["type"]!.GetValue<string>());
        contract.AssertValid(contract.ResponseSchema("post", "/responses", 200), last["response"]!.ToJsonString());
    }

    [Fact]
    public async Task ValidationFailsWhenAReplyDoesNotMatch()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        var client = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);
        var credits = await (await client.GetAsync("/api/v1/credits")).Content.ReadAsStringAsync();
        var completion = JsonNode.Parse(await (await client.PostChatAsync(Hello)).Content.ReadAsStringAsync())!.AsObject();
        var creditsSchema = contract.ResponseSchema("get", "/credits", 200);
        var completionSchema = contract.ResponseSchema("post", Chat, 200);
        contract.AssertValid(creditsSchema, credits);
        contract.AssertValid(completionSchema, completion.ToJsonString());

        // The wrong schema for the reply; a reply without a field the document requires; with a field
        // it does not list; with a field of the wrong type; an error envelope without "param".
        contract.AssertInvalid(contract.ResponseSchema("get", "/models", 200), credits);
        contract.AssertInvalid(completionSchema, Without(completion, "id"));
        contract.AssertInvalid(completionSchema, With(completion, "surprise", 1));
        contract.AssertInvalid(completionSchema, With(completion, "created", "yesterday"));
        contract.AssertInvalid(contract.ResponseSchema("post", Chat, 400), """{"error":{"message":"m","type":"t","code":"c"}}""");
        contract.AssertValid(contract.ResponseSchema("post", Chat, 400), """{"error":{"message":"m","type":"t","code":"c","param":null}}""");
    }

    /// <summary>The request schema, written by hand, agrees with what ChatRequestValidator accepts.</summary>
    [Fact]
    public async Task RequestSchemaAgreesWithTheValidator()
    {
        var contract = await OpenApiContract.FetchAsync(_app);
        var schema = contract.RequestSchema("post", Chat);
        var client = _app.ApiClient((await _app.CreateApiAccountAsync()).Key);
        foreach (var (accepted, body) in RequestCases)
        {
            var response = await client.PostChatAsync(body);
            Assert.True((accepted ? HttpStatusCode.OK : HttpStatusCode.BadRequest) == response.StatusCode, $"{body}: {await response.Content.ReadAsStringAsync()}");
            if (accepted)
            {
                contract.AssertValid(schema, body);
            }
            else
            {
                contract.AssertInvalid(schema, body);
            }
        }
    }

    private static readonly (bool Accepted, string Body)[] RequestCases =
    [
        (true, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}]}"""),
        (true, """{"model":"zhipu/glm-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}],"max_tokens":10,"temperature":0.5,"top_p":1,"stop":["\n\n"],"seed":7,"user":"u1","custom_field":{"kept":true}}"""),
        (true, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"web_search"}],"tool_choice":{"type":"function","function":{"name":"f"}},"stream":false,"stream_options":null,"response_format":{"type":"json_object"},"max_completion_tokens":10}"""),
        (false, """{"messages":[{"role":"user","content":"Hi"}]}"""),
        (false, """{"model":"glm-5","messages":[]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"robot","content":"Hi"}]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"tool","content":"42"}]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":[{"type":"text"}]}]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"temperature":2.5}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"top_p":0}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"n":17}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":"10"}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"stop":["a","b","c","d","e"]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"has space"}}]}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"tool_choice":"sometimes"}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"yaml"}}"""),
        (true, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"city-1","description":"A city","strict":true,"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}}}"""),
        (true, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"anything"}}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema"}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"has space","schema":{"type":"object"}}}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":[]}}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":"yes","schema":{}}}}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"ultra"}"""),
        (false, """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"request_id":"abc"}"""),
    ];

    [Fact]
    public async Task DocumentIsAnonymousAndAnswersOnlyGet()
    {
        var response = await _app.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, GatewayOpenApi.Path)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "sk-portal-not-a-key") },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var post = await _app.CreateClient().PostAsync(GatewayOpenApi.Path, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Contains("method_not_allowed", await post.Content.ReadAsStringAsync());
    }

    private static string Without(JsonObject reply, string field)
    {
        var copy = reply.DeepClone().AsObject();
        copy.Remove(field);
        return copy.ToJsonString();
    }

    private static string With(JsonObject reply, string field, JsonNode value)
    {
        var copy = reply.DeepClone().AsObject();
        copy[field] = value;
        return copy.ToJsonString();
    }
}
