using System.Text.Json.Nodes;
using Portal.Tests.Gateway;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Usage;

/// <summary><c>GET /api/v1/usage</c>: the dashboard's requests for programs — whose, in what order, paged by a cursor, filtered, and bad input.</summary>
public sealed class UsageApiTests : IAsyncLifetime
{
    private readonly PortalApplication _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ACursorPagesThroughTheAccountsRequestsNewestFirstWhileNewOnesArrive()
    {
        var ada = await _app.CreateApiAccountAsync();
        var bob = await _app.CreateApiAccountAsync();
        var now = _app.Now();
        var sameTime = now.AddMinutes(-30);
        // Two at the same instant (the cursor must not skip or repeat either), a playground call, Bob's.
        var seeded = new[]
        {
            Record(ada.UserId, now.AddHours(-3), keyId: ada.KeyId),
            Record(ada.UserId, now.AddHours(-2), keyId: ada.KeyId, status: 429, error: "rate_limit_exceeded"),
            Record(ada.UserId, sameTime, keyId: ada.KeyId),
            Record(ada.UserId, sameTime, keyId: null, model: "kimi-k2"),
            Record(ada.UserId, now.AddMinutes(-10), keyId: ada.KeyId),
        };
        await _app.AddAsync([.. seeded, Record(bob.UserId, now.AddMinutes(-5), keyId: bob.KeyId)]);
        var client = _app.ApiClient(ada.Key);

        var first = await GetAsync(client, "/api/v1/usage?limit=2");
        // A request made between pages is newer than the cursor: the next pages neither repeat nor skip.
        await _app.AddAsync(Record(ada.UserId, now.AddMinutes(-1), keyId: ada.KeyId));
        var second = await GetAsync(client, $"/api/v1/usage?limit=2&after={first["last_id"]}");
        var third = await GetAsync(client, $"/api/v1/usage?limit=2&after={second["last_id"]}");

        string[] expected = [seeded[4].RequestId, seeded[3].RequestId, seeded[2].RequestId, seeded[1].RequestId, seeded[0].RequestId];
        Assert.Equal(expected, new[] { first, second, third }.SelectMany(Ids));
        Assert.Equal([true, true, false], new[] { first, second, third }.Select(p => p["has_more"]!.GetValue<bool>()));
        Assert.Equal(expected[0], first["first_id"]!.GetValue<string>());
        Assert.Equal("list", first["object"]!.GetValue<string>());

        var row = first["data"]![1]!;
        Assert.Equal(("usage.request", "kimi-k2", "playground", 100m / 1_000_000), (row["object"]!.GetValue<string>(), row["model"]!.GetValue<string>(),
            row["source"]!.GetValue<string>(), row["cost"]!.GetValue<decimal>()));
        Assert.Null(row["api_key_id"]);
        var refused = second["data"]![1]!;
        Assert.Equal((429, "rate_limit_exceeded", ada.KeyId, "test key"), (refused["status"]!.GetValue<int>(), refused["error_code"]!.GetValue<string>(),
            refused["api_key_id"]!.GetValue<string>(), refused["api_key_name"]!.GetValue<string>()));
        Assert.Equal(new DateTimeOffset(seeded[1].CreatedAt).ToUnixTimeSeconds(), refused["created"]!.GetValue<long>());

        // The newest, read from the top again; and Bob sees only his own.
        Assert.Equal(6, Ids(await GetAsync(client, "/api/v1/usage?limit=100")).Count());
        Assert.Single(Ids(await GetAsync(_app.ApiClient(bob.Key), "/api/v1/usage")));
    }

    [Fact]
    public async Task AnEmptyAccountGetsAnEmptyList()
    {
        var ada = await _app.CreateApiAccountAsync();

        var page = await GetAsync(_app.ApiClient(ada.Key), "/api/v1/usage");

        Assert.Empty(Ids(page));
        Assert.False(page["has_more"]!.GetValue<bool>());
        Assert.Null(page["first_id"]);
        Assert.Null(page["last_id"]);
    }

    [Fact]
    public async Task ItsFiltersAreTheDashboards()
    {
        var ada = await _app.CreateApiAccountAsync();
        var now = _app.Now();
        var today = DateOnly.FromDateTime(now).ToString("yyyy-MM-dd");
        var old = Record(ada.UserId, now.AddDays(-3), keyId: ada.KeyId, model: "kimi-k2");
        var failed = Record(ada.UserId, now.AddMinutes(-2), keyId: ada.KeyId, status: 402, error: "insufficient_quota");
        var playground = Record(ada.UserId, now.AddMinutes(-1), keyId: null);
        await _app.AddAsync(old, failed, playground);
        var client = _app.ApiClient(ada.Key);

        Assert.Equal([old.RequestId], Ids(await GetAsync(client, "/api/v1/usage?model=kimi-k2")));
        Assert.Equal([failed.RequestId], Ids(await GetAsync(client, "/api/v1/usage?status=error")));
        Assert.Equal([playground.RequestId], Ids(await GetAsync(client, "/api/v1/usage?key=playground")));
        Assert.Equal([failed.RequestId, old.RequestId], Ids(await GetAsync(client, $"/api/v1/usage?key={ada.KeyId}")));
        Assert.Equal([playground.RequestId, failed.RequestId], Ids(await GetAsync(client, $"/api/v1/usage?from={today}&to={today}")));
        // A cursor and a filter together: older matching requests only.
        Assert.Equal([old.RequestId], Ids(await GetAsync(client, $"/api/v1/usage?key={ada.KeyId}&after={failed.RequestId}")));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=99999999999999999999", "limit")]
    [InlineData("model=no-such-model", "model")]
    [InlineData("key=key_not_mine", "key")]
    [InlineData("status=maybe", "status")]
    [InlineData("from=22/11/2026", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-11-20&to=2026-11-01", "from")]
    [InlineData("after=req_nobody", "after")]
    public async Task BadInputGetsA400NamingTheParameter(string query, string param)
    {
        var ada = await _app.CreateApiAccountAsync();

        var response = await _app.ApiClient(ada.Key).GetAsync($"/api/v1/usage?{query}");

        await GatewayFixtures.AssertErrorAsync(response, 400, "invalid_request_error", param);
    }

    [Fact]
    public async Task AnotherAccountsKeyOrRequestCannotBeUsedToPeek()
    {
        var ada = await _app.CreateApiAccountAsync();
        var bob = await _app.CreateApiAccountAsync();
        var bobs = Record(bob.UserId, _app.Now(), keyId: bob.KeyId);
        await _app.AddAsync(bobs, Record(ada.UserId, _app.Now().AddMinutes(-1), keyId: ada.KeyId));
        var client = _app.ApiClient(ada.Key);

        // Bob's key is not Ada's to filter by, and his request is not a cursor in her list: both are
        // refused as if they did not exist, so nothing says whether they do.
        await GatewayFixtures.AssertErrorAsync(await client.GetAsync($"/api/v1/usage?key={bob.KeyId}"), 400, "invalid_request_error", "key");
        await GatewayFixtures.AssertErrorAsync(await client.GetAsync($"/api/v1/usage?after={bobs.RequestId}"), 400, "invalid_request_error", "after");
        var anonymous = await _app.CreateClient().GetAsync("/api/v1/usage");
        await GatewayFixtures.AssertErrorAsync(anonymous, 401, "invalid_api_key");
    }

    [Fact]
    public async Task ARequestMadeThroughTheApiIsListedWithWhatItCost()
    {
        var ada = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(ada.Key);
        var reply = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":5}""");
        var requestId = reply.Headers.GetValues("x-request-id").Single();
        var record = await _app.WaitForUsageRecordAsync(ada.UserId);

        var row = (await GetAsync(client, "/api/v1/usage"))["data"]![0]!;

        Assert.Equal(requestId, row["id"]!.GetValue<string>());
        Assert.Equal((record.PromptTokens, record.CompletionTokens, record.CostMicros / 1_000_000m, 200, "api"),
            (row["prompt_tokens"]!.GetValue<int>(), row["completion_tokens"]!.GetValue<int>(), row["cost"]!.GetValue<decimal>(),
             row["status"]!.GetValue<int>(), row["source"]!.GetValue<string>()));
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static IEnumerable<string> Ids(JsonNode page) => page["data"]!.AsArray().Select(r => r!["id"]!.GetValue<string>());
}
