using System.Text.Json.Nodes;
using OpenAI.Chat;
using Portal.Tests.Gateway;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Usage;

/// <summary>
/// The client's end user (<c>user</c>, or Zhipu's <c>user_id</c>): checked, kept on the usage record,
/// listed and filtered by in <c>GET /api/v1/usage</c> — and only ever for its own account.
/// </summary>
public sealed class EndUserTests : IAsyncLifetime
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task TheUserTheSdkSendsIsKeptOnTheRecordAndListedAndFilteredByTheUsageApi()
    {
        var ada = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(ada.Key);

        await chat.CompleteChatAsync([new UserChatMessage("For customer 7")], new ChatCompletionOptions { EndUserId = "customer-7", MaxOutputTokenCount = 5 });
        await chat.CompleteChatAsync([new UserChatMessage("For nobody in particular")], new ChatCompletionOptions { MaxOutputTokenCount = 5 });
        using var client = _app.ApiClient(ada.Key);
        var zhipu = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"GLM style"}],"max_tokens":5,"user_id":"zhipu-user-1"}""");
        Assert.Equal(HttpStatusCode.OK, zhipu.StatusCode);

        var all = await GetAsync(client, "/api/v1/usage");
        Assert.Equal(["zhipu-user-1", null, "customer-7"], all["data"]!.AsArray().Select(r => r!["user"]?.GetValue<string>()));
        var filtered = await GetAsync(client, "/api/v1/usage?user=customer-7");
        var row = Assert.Single(filtered["data"]!.AsArray())!;
        Assert.Equal("customer-7", row["user"]!.GetValue<string>());
        Assert.Empty((await GetAsync(client, "/api/v1/usage?user=customer-8"))["data"]!.AsArray());
    }

    [Theory]
    [InlineData("user", 257, "user")]
    [InlineData("user_id", 129, "user_id")]
    [InlineData("user_id", 5, "user_id")]
    public async Task AnEndUserIdOutsideItsLengthsIsRefusedNamingTheField(string field, int length, string param)
    {
        var ada = await _app.CreateApiAccountAsync();
        var body = new JsonObject
        {
            ["model"] = "glm-5",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
            [field] = new string('u', length),
        };

        var response = await _app.ApiClient(ada.Key).PostChatAsync(body.ToJsonString());

        await GatewayFixtures.AssertErrorAsync(response, 400, "invalid_request_error", param);
        Assert.Equal(await _app.BalanceAsync(ada.UserId), Money.FromUsd(10m)); // nothing held or charged
    }

    [Fact]
    public async Task TheLongestEndUserIdsAreAccepted()
    {
        var ada = await _app.CreateApiAccountAsync();
        var longest = new string('u', 256);

        var response = await _app.ApiClient(ada.Key).PostChatAsync(
            $$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"user":"{{longest}}"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(longest, (await _app.WaitForUsageRecordAsync(ada.UserId)).EndUser);
    }

    [Fact]
    public async Task AnotherAccountsEndUsersAreNeitherListedNorFilterable()
    {
        var ada = await _app.CreateApiAccountAsync();
        var bob = await _app.CreateApiAccountAsync();
        var bobs = Record(bob.UserId, _app.Now(), keyId: bob.KeyId);
        bobs.EndUser = "bobs-customer";
        var adas = Record(ada.UserId, _app.Now().AddMinutes(-1), keyId: ada.KeyId);
        adas.EndUser = "adas-customer";
        await _app.AddAsync(bobs, adas);
        using var client = _app.ApiClient(ada.Key);

        // Filtering by Bob's end user finds nothing in Ada's account, as for an id nobody used.
        Assert.Empty((await GetAsync(client, "/api/v1/usage?user=bobs-customer"))["data"]!.AsArray());
        var listed = (await GetAsync(client, "/api/v1/usage"))["data"]!.AsArray();
        Assert.Equal(["adas-customer"], listed.Select(r => r!["user"]!.GetValue<string>()));
        await GatewayFixtures.AssertErrorAsync(await client.GetAsync($"/api/v1/usage?user={new string('x', 257)}"), 400, "invalid_request_error", "user");
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
