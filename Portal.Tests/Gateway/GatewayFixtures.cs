using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Data;

namespace Portal.Tests.Gateway;

/// <summary>A user with credits and a key, ready to call /api/v1.</summary>
public sealed record ApiAccount(string UserId, string KeyId, string Key);

public static class GatewayFixtures
{
    public static async Task<ApiAccount> CreateApiAccountAsync(this PortalApplication app, decimal credits = 10m, NewApiKey? key = null)
    {
        var user = await app.CreateUserAsync($"api-{Guid.NewGuid():N}@example.test", "correct horse battery");
        if (credits != 0)
        {
            await app.Services.GetRequiredService<CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(credits), "test credits", actorId: null);
        }

        var (created, plaintext) = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, key ?? new NewApiKey("test key"));
        return new ApiAccount(user.Id, created.Id, plaintext);
    }

    /// <summary>An HTTP client carrying the account's key.</summary>
    public static HttpClient ApiClient(this PortalApplication app, string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>The official OpenAI .NET SDK, talking to the in-memory Portal.</summary>
    public static ChatClient OpenAiChat(this PortalApplication app, string key, string model = "glm-5") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(app.Server.BaseAddress, "/api/v1"),
            Transport = new HttpClientPipelineTransport(app.CreateClient()),
        });

    public static Task<HttpResponseMessage> PostChatAsync(this HttpClient client, string json) =>
        client.PostAsync("/api/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<long> BalanceAsync(this PortalApplication app, string userId) =>
        (await app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(userId)).BalanceMicros;

    /// <summary>Balance and ledger sum of every user: the ledger's invariant.</summary>
    public static async Task AssertLedgerConsistentAsync(this PortalApplication app)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var balances = await db.CreditBalances.ToDictionaryAsync(b => b.UserId, b => b.BalanceMicros);
        var sums = await db.Ledger.GroupBy(e => e.UserId).Select(g => new { g.Key, Sum = g.Sum(e => e.AmountMicros) }).ToDictionaryAsync(x => x.Key, x => x.Sum);
        Assert.Equal(sums.OrderBy(p => p.Key), balances.OrderBy(p => p.Key));
        Assert.All(balances.Values, b => Assert.True(b >= 0, $"negative balance {b}"));
    }

    public static async Task<T> InStoreAsync<T>(this PortalApplication app, Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    /// <summary>The user's first usage record, waited for (boundedly): a client that left is settled after it has gone.</summary>
    public static async Task<UsageRecord> WaitForUsageRecordAsync(this PortalApplication app, string userId)
    {
        for (var waited = 0; waited < 200; waited++)
        {
            if (await app.InStoreAsync(db => db.UsageRecords.FirstOrDefaultAsync(r => r.UserId == userId)) is { } record)
            {
                return record;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the abandoned request was never settled");
    }

    /// <summary>An /api/v1 error: its status, the OpenAI envelope with <paramref name="code"/> and <paramref name="param"/>, and a request id.</summary>
    public static async Task<JsonNode> AssertErrorAsync(HttpResponseMessage response, int status, string code, string? param = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("x-request-id"), "no x-request-id");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(error["type"]!.GetValue<string>()));
        return error;
    }
}
