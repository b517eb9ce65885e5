using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// What a client writes ends up in its usage record (the model it asked for). PostgreSQL refuses a
/// NUL in text and a lone UTF-16 surrogate (not UTF-8 at all), so such text must be made storable
/// before it reaches the ledger writer, on either store.
/// </summary>
public sealed class ClientTextTests
{
    /// <summary>The body's model as JSON text, and what its usage record must show.</summary>
    public static TheoryData<string, string> Models => new()
    {
        { "\"\\u0000\"", "\uFFFD" },
        // 129 UTF-16 units: a cut at the column's 128 would leave half of the emoji.
        { $"\"{new string('a', 127)}\U0001F600\"", new string('a', 127) },
        { "\"glm\\u0007-5\\r\\n\"", "glm\uFFFD-5\uFFFD\uFFFD" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public Task AModelNameThatCannotBeStoredAsWrittenIsRefusedAndRecorded(string model, string recorded) =>
        RefusedAndRecordedAsync(new PortalApplication(), model, recorded);

    [PostgresFact]
    public async Task AModelNameThatCannotBeStoredAsWrittenIsRefusedAndRecordedOnPostgres()
    {
        foreach (var row in Models)
        {
            await using var database = new PostgresTestDatabase();
            await RefusedAndRecordedAsync(new PortalApplication(database.StoreSettings()), (string)row[0], (string)row[1]);
        }
    }

    [Fact]
    public void StoredClientTextHasNoControlCharactersNoHalfPairsAndFitsItsColumn()
    {
        Assert.Equal("unknown", UsageRecord.Refused(FrontDoor.ChatCompletions, "req_1", "u", null, null, 400, "invalid_request_error", DateTime.UnixEpoch).ModelId);
        Assert.Equal("glm-5", UsageRecord.ClientText("glm-5", 128));
        Assert.Equal("a\uFFFDb\uFFFD", UsageRecord.ClientText("a\0b\u009F", 128));
        Assert.Equal("\uFFFDx", UsageRecord.ClientText("\uD83Dx", 128)); // a lone surrogate from the client
        Assert.Equal("ab", UsageRecord.ClientText("ab\U0001F600", 3));
        Assert.Equal("ab\U0001F600", UsageRecord.ClientText("ab\U0001F600c", 4));
        Assert.Equal(new string('x', 128), UsageRecord.ClientText(new string('x', 500), 128));
    }

    private static async Task RefusedAndRecordedAsync(PortalApplication app, string model, string recorded)
    {
        using var _ = app;
        var account = await app.CreateApiAccountAsync(credits: 1m);

        var response = await app.ApiClient(account.Key).PostChatAsync($$"""{"model":{{model}},"messages":[{"role":"user","content":"Hi"}]}""");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("model_not_found", JsonNode.Parse(text)!["error"]!["code"]!.GetValue<string>());
        var record = await app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((recorded, 404, "model_not_found", 0L), (record.ModelId, record.Status, record.ErrorCode, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m), await app.BalanceAsync(account.UserId));
    }
}
