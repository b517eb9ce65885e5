using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Responses;
using Portal.Billing;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Gateway;

#pragma warning disable OPENAI001 // the SDK's Responses client is marked experimental

/// <summary>
/// Stored responses (ADR 32) through the official OpenAI SDK's Responses client: kept unless
/// <c>store: false</c>, fetched, continued with <c>previous_response_id</c> and deleted only by their own
/// account, gone after <c>Responses:KeepDays</c>, and never more than an account's allowance.
/// </summary>
public sealed class ResponsesStoreTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Responses:StoredBytesPerAccount"] = "1000000",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AContinuedResponseSendsTheProviderTheWholeConversationButNotTheEarlierInstructions()
    {
        await using var provider = await FakeUpstream.StartAsync(
            Reply.Stream(Chunks.Content("Nice to meet you, Ada.", finishReason: "stop"), Chunks.Usage(prompt: 12, completion: 6)),
            Reply.Stream(Chunks.Content("Your name is Ada.", finishReason: "stop"), Chunks.Usage(prompt: 30, completion: 5)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        var created = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("My name is Ada.")])
        {
            Instructions = "Be brief.",
        });
        ResponseResult first = created;
        ResponseResult second = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("What is my name?")])
        {
            PreviousResponseId = first.Id,
        });

        Assert.True(Stored(created));
        Assert.Equal(("Your name is Ada.", first.Id), (second.GetOutputText(), second.PreviousResponseId));
        var sent = provider.Requests[1].Body!["messages"]!.AsArray().Select(m => $"{m!["role"]}: {Text(m["content"])}");
        Assert.Equal(["user: My name is Ada.", "assistant: Nice to meet you, Ada.", "user: What is my name?"], sent);
        // Each turn is billed at what its provider reported: the continued one for the whole conversation it sent.
        var costs = Money.Cost(12, 6, Money.FromUsd(1.50m), Money.FromUsd(5.00m)) + Money.Cost(30, 5, Money.FromUsd(1.50m), Money.FromUsd(5.00m));
        Assert.Equal(Money.FromUsd(1m) - costs, await _app.BalanceAsync(account.UserId));

        ResponseResult fetched = await client.GetResponseAsync(second.Id);
        Assert.Equal((second.Id, ResponseStatus.Completed, "Your name is Ada.", 35), (fetched.Id, fetched.Status, fetched.GetOutputText(), fetched.Usage.TotalTokenCount));
    }

    [Fact]
    public async Task AStreamedResponseIsKeptAsItsLastEventSaidAndCanBeContinued()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("kimi-k2", [ResponseItem.CreateUserMessageItem("Stream a short answer.")]) { MaxOutputTokenCount = 200, StreamingEnabled = true }))
        {
            completed = update switch
            {
                StreamingResponseCompletedUpdate done => done.Response,
                StreamingResponseIncompleteUpdate cut => cut.Response, // the simulated reply may run past 200 tokens
                _ => completed,
            };
        }

        Assert.NotNull(completed);
        ResponseResult fetched = await client.GetResponseAsync(completed.Id);
        Assert.Equal((completed.GetOutputText(), completed.Usage.OutputTokenCount), (fetched.GetOutputText(), fetched.Usage.OutputTokenCount));
        ResponseResult next = await client.CreateResponseAsync(new CreateResponseOptions("kimi-k2", [ResponseItem.CreateUserMessageItem("Shorter, please.")]) { PreviousResponseId = completed.Id });
        Assert.True(next.Usage.InputTokenCount > completed.Usage.InputTokenCount, "the continued request was not sent the earlier conversation");
    }

    [Fact]
    public async Task StoreFalseKeepsNothing()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);

        var created = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Forget this.")]) { StoredOutputEnabled = false });
        ResponseResult response = created;

        Assert.False(Stored(created));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(response.Id))).Status);
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("And?")]) { PreviousResponseId = response.Id }));
        Assert.Equal(400, refused.Status);
        Assert.Contains("previous_response_not_found", refused.Message);
        Assert.Equal(0, await _app.InStoreAsync(db => db.StoredResponses.CountAsync()));
    }

    [Fact]
    public async Task AnotherAccountCanNeitherFetchContinueNorDeleteIt()
    {
        var owner = await _app.CreateApiAccountAsync();
        var other = await _app.CreateApiAccountAsync();
        ResponseResult mine = await _app.OpenAiResponses(owner.Key).CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("A secret plan.")]));
        var theirs = _app.OpenAiResponses(other.Key);

        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => theirs.GetResponseAsync(mine.Id))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => theirs.DeleteResponseAsync(mine.Id))).Status);
        var continued = await Assert.ThrowsAsync<ClientResultException>(() => theirs.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Tell me the plan.")]) { PreviousResponseId = mine.Id }));
        Assert.Equal(400, continued.Status);
        Assert.DoesNotContain("secret", continued.Message, StringComparison.OrdinalIgnoreCase);

        ResponseResult stillThere = await _app.OpenAiResponses(owner.Key).GetResponseAsync(mine.Id);
        Assert.Equal(mine.GetOutputText(), stillThere.GetOutputText());
    }

    [Fact]
    public async Task ADeletedResponseIsGone()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);
        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Delete me.")]));

        ResponseDeletionResult deleted = await client.DeleteResponseAsync(response.Id);

        Assert.Equal((response.Id, true), (deleted.ResponseId, deleted.Deleted));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(response.Id))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.DeleteResponseAsync(response.Id))).Status);
    }

    [Fact]
    public async Task AResponseOlderThanTheKeptDaysIsGoneAndDeletedWithTheNextOneStored()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.OpenAiResponses(account.Key);
        ResponseResult old = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Old news.")]));

        _app.Time.Advance(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1));

        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(old.Id))).Status);
        ResponseResult fresh = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Fresh news.")]));
        Assert.Equal([fresh.Id], await _app.InStoreAsync(db => db.StoredResponses.Select(r => r.Id).ToListAsync()));
    }

    [Fact]
    public async Task StoringPastTheAccountsAllowanceDeletesItsOldestResponses()
    {
        var account = await _app.CreateApiAccountAsync(credits: 10m);
        var other = await _app.CreateApiAccountAsync();
        ResponseResult othersResponse = await _app.OpenAiResponses(other.Key).CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Mine.")]));
        var client = _app.OpenAiResponses(account.Key);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            _app.Time.Advance(TimeSpan.FromSeconds(1));
            var prompt = $"Request {i}: " + new string('x', 300_000);
            ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem(prompt)]) { MaxOutputTokenCount = 16 });
            ids.Add(response.Id);
        }

        var kept = await _app.InStoreAsync(db => db.StoredResponses.Where(r => r.UserId == account.UserId).OrderBy(r => r.CreatedAt).Select(r => new { r.Id, r.Bytes }).ToListAsync());
        Assert.Equal(ids[^kept.Count..], kept.Select(r => r.Id));
        Assert.True(kept.Count is 3, $"{kept.Count} kept");
        Assert.True(kept.Sum(r => r.Bytes) <= 1_000_000);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(ids[0]))).Status);
        ResponseResult untouched = await _app.OpenAiResponses(other.Key).GetResponseAsync(othersResponse.Id); // another account's allowance is its own
        Assert.Equal(othersResponse.Id, untouched.Id);
    }

    [Fact]
    public async Task AContinuationPastTheBodyLimitIsRefusedAndCostsNothing()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);
        ResponseResult first = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("A long story.")]));
        // As if the stored conversation had grown to just under the 8 MB a request may be.
        await _app.InStoreAsync(db => db.StoredResponses.Where(r => r.Id == first.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Bytes, Portal.Gateway.ChatBodyReader.MaxBodyBytes - 10)));
        var balance = await _app.BalanceAsync(account.UserId);

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("And then?")]) { PreviousResponseId = first.Id }));

        Assert.Equal(413, refused.Status);
        Assert.Contains("Start a new conversation", refused.Message);
        Assert.Equal(balance, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task WithNoDaysToKeepNothingIsStoredAndNoConversationContinued()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Responses:KeepDays"] = "0" });
        var account = await app.CreateApiAccountAsync();
        var client = app.OpenAiResponses(account.Key);

        var created = await client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Hello.")]));
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("And?")]) { PreviousResponseId = created.Value.Id }));

        Assert.False(Stored(created));
        Assert.Equal(400, refused.Status);
        Assert.Contains("unsupported_parameter", refused.Message);
        Assert.Equal(0, await app.InStoreAsync(db => db.StoredResponses.CountAsync()));
    }

    [Theory]
    [InlineData("""{"model":"glm-5","input":"Hi","previous_response_id":42}""", 400, "previous_response_id")]
    [InlineData("""{"model":"glm-5","input":"Hi","previous_response_id":"resp_nothing"}""", 400, "previous_response_id")]
    [InlineData("""{"model":"glm-5","input":"Hi","store":"yes"}""", 400, "store")]
    public async Task BadStoredResponseParametersAreNamed(string body, int status, string param)
    {
        var account = await _app.CreateApiAccountAsync();

        var response = await _app.ApiClient(account.Key).PostAsync("/api/v1/responses", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(param, (await response.JsonBodyAsync())["error"]!["param"]!.GetValue<string>());
        Assert.Equal(0, await _app.InStoreAsync(db => db.StoredResponses.CountAsync()));
    }

    [Fact]
    public async Task AnIdTooLongToBePortalsIsNotFoundAndNotEchoedWhole()
    {
        var account = await _app.CreateApiAccountAsync();
        var id = "resp_" + new string('a', 4_000);

        var fetched = await _app.ApiClient(account.Key).GetAsync($"/api/v1/responses/{id}");
        var continued = await _app.ApiClient(account.Key).PostAsync("/api/v1/responses", new StringContent(
            new JsonObject { ["model"] = "glm-5", ["input"] = "Hi", ["previous_response_id"] = id }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, fetched.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, continued.StatusCode);
        Assert.True((await continued.Content.ReadAsStringAsync()).Length < 2_000);
    }

    /// <summary>A chat message's content as text: a string, or its text parts.</summary>
    private static string Text(JsonNode? content) => content is JsonArray parts
        ? string.Concat(parts.Select(p => p!["text"]!.GetValue<string>()))
        : content!.GetValue<string>();

    /// <summary>The Response's <c>store</c>, which the SDK's model does not expose.</summary>
    private static bool Stored(ClientResult<ResponseResult> result) =>
        JsonNode.Parse(result.GetRawResponse().Content.ToString())!["store"]!.GetValue<bool>();
}
