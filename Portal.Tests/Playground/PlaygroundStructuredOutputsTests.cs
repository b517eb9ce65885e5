using System.Security.Claims;
using System.Text.Json.Nodes;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using Portal.Account;
using Portal.Billing;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway;
using Portal.Playground;
using Portal.Tests.Components;
using Portal.Tests.Gateway;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Playground;

/// <summary>
/// The playground's response formats on the page, against a real Portal whose glm-5 is served by a real
/// loopback provider: what a JSON schema sends through the gateway, and a schema that cannot be sent.
/// </summary>
public sealed class PlaygroundStructuredOutputsTests : ComponentTestBase
{
    /// <summary>How long to wait for a render that follows the gateway or the store: a bound on waiting, not a delay.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private PortalApplication App { get; } = new();

    public PlaygroundStructuredOutputsTests()
    {
        Services.AddLogging();
        foreach (var type in new[] { typeof(ChatGateway), typeof(ModelCatalog), typeof(CreditsLedger), typeof(IDbContextFactory<PortalDbContext>),
                     typeof(TimeProvider), typeof(EmailVerification), typeof(IOptions<IdentityOptions>) })
        {
            Services.AddSingleton(type, App.Services.GetRequiredService(type));
        }
    }

    protected override async Task DisposeFixturesAsync() => await App.DisposeAsync();

    [Fact]
    public async Task ChoosingAJsonSchemaSendsItAsTheResponseFormatAndShowsTheStructuredReply()
    {
        const string structured = """{"answer":"Lisbon","confidence":0.9}""";
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content(structured, "stop"), Chunks.Usage(prompt: 30, completion: 12)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var userId = await SignInWithCreditsAsync();
        var page = RenderPlayground();

        ChooseJsonSchema(page);
        page.Find("input#schema-name").Change("city_answer");
        page.Find("textarea[data-testid=prompt], [data-testid=prompt] textarea").Input("Which city has trams on hills?");
        page.Find("button[data-testid=send]").Click();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=reply-usage]")), Wait);
        var sent = Assert.Single(provider.Requests).Body!;
        var format = sent["response_format"]!;
        Assert.Equal(("json_schema", "city_answer"), (format["type"]!.GetValue<string>(), format["json_schema"]!["name"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PlaygroundResponseFormat.ExampleSchema), format["json_schema"]!["schema"]));
        Assert.Equal(PlaygroundSession.Pretty(JsonNode.Parse(structured)!), page.Find("[data-testid=reply-json]").TextContent);
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == userId));
        Assert.Equal((200, 30, 12), (record.Status, record.PromptTokens, record.CompletionTokens)); // billed like any request
    }

    [Theory]
    [InlineData("schema-text", """{"type": "object", "properties": {""", "The schema is not valid JSON")]
    [InlineData("schema-text", """["not", "an", "object"]""", "The schema must be a JSON object")]
    [InlineData("schema-name", "has spaces", "'response_format.json_schema.name' must be")]
    public async Task ASchemaThatCannotBeSentIsExplainedAndNothingIsSent(string field, string text, string message)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("{}", "stop")));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var userId = await SignInWithCreditsAsync();
        var page = RenderPlayground();
        ChooseJsonSchema(page);

        page.Find(field == "schema-text" ? "textarea#schema-text" : "input#schema-name").Change(text);
        page.Find("textarea[data-testid=prompt], [data-testid=prompt] textarea").Input("Answer in JSON");
        page.Find("button[data-testid=send]").Click();

        Assert.Contains(message, page.Find("#schema-text-error").TextContent);
        Assert.Empty(page.FindAll("[data-testid=message-user]"));
        Assert.Empty(provider.Requests);
        Assert.False(await App.InStoreAsync(db => db.UsageRecords.AnyAsync(r => r.UserId == userId)));
        Assert.Equal(Money.FromUsd(5m), await App.BalanceAsync(userId));
    }

    private IRenderedComponent<PlaygroundPage> RenderPlayground()
    {
        Render<MudPopoverProvider>();
        Render<MudDialogProvider>();
        var page = Render<PlaygroundPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=response-format]")), Wait);
        return page;
    }

    private static void ChooseJsonSchema(IRenderedComponent<PlaygroundPage> page)
    {
        Assert.Empty(page.FindAll("textarea#schema-text"));
        page.FindAll("[data-testid=response-format] label").Single(l => l.TextContent.Trim() == "JSON schema").QuerySelector("input")!.Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("textarea#schema-text")), Wait);
    }

    private async Task<string> SignInWithCreditsAsync()
    {
        var user = await App.CreateUserAsync("ada@example.com", "correct horse battery");
        await App.Services.GetRequiredService<CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(5m), "test credits", actorId: null);
        SignInAs(user.Email!);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        return user.Id;
    }
}
