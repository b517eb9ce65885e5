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
}
