using Microsoft.EntityFrameworkCore;
using OpenAI.Responses;
using Portal.Billing;
using Portal.Tests.Store;

namespace Portal.Tests.Gateway;

#pragma warning disable OPENAI001 // the SDK's Responses client is marked experimental

/// <summary>The Responses API's charge and usage record on a real PostgreSQL, written through Npgsql by the ledger writer.</summary>
public sealed class PostgresResponsesTests : PostgresAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [PostgresFact]
    public async Task AResponseIsChargedAndRecordedAsTheResponsesApiOnPostgres()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);

        ResponseResult response = await App.OpenAiResponses(account.Key).CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Hello from PostgreSQL")]) { MaxOutputTokenCount = 400 });

        var cost = Money.Cost(response.Usage.InputTokenCount, response.Usage.OutputTokenCount, Money.FromUsd(1.50m), Money.FromUsd(5.00m));
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync());
        Assert.Equal((FrontDoor.Responses, cost), (record.Api, record.CostMicros));
        await App.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task AStoredResponseIsContinuedFetchedAndDeletedOnPostgres()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        var client = App.OpenAiResponses(account.Key);

        ResponseResult first = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("My name is Ada.")]) { MaxOutputTokenCount = 100 });
        ResponseResult second = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("What is my name?")]) { PreviousResponseId = first.Id, MaxOutputTokenCount = 100 });

        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount + first.Usage.OutputTokenCount, "the continued request was not sent the earlier conversation");
        ResponseResult fetched = await client.GetResponseAsync(second.Id);
        Assert.Equal(second.GetOutputText(), fetched.GetOutputText());
        Assert.True((await client.DeleteResponseAsync(first.Id)).Value.Deleted);
        Assert.Equal([second.Id], await App.InStoreAsync(db => db.StoredResponses.Select(r => r.Id).ToListAsync()));
    }
}
