using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed class PlaygroundJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task ReplyStreamsAndIsChargedFromTheBalance() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "2", "--reason", "e2e");
        var playground = new PlaygroundPage(await NewPageAsync(user));

        await playground.GotoAsync();
        await Expect(playground.Balance).ToContainTextAsync("$2.00");
        await playground.AskAsync("Say hello in a few words.");

        await Expect(playground.LastReplyText).Not.ToBeEmptyAsync();
        await Expect(playground.LastReplyUsage).ToContainTextAsync(new Regex(@"\d+ in · \d+ out · \$0\.\d+"));
        await Expect(playground.Balance).Not.ToContainTextAsync("$2.00");
    });

    [Fact]
    public Task ViewCodeShowsTheRequestAsSetUpInEveryLanguage() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var playground = new PlaygroundPage(await NewPageAsync(user));
        await playground.GotoAsync();

        await playground.ChooseModelAsync("deepseek-r1");
        await Expect(playground.Page.GetByRole(AriaRole.Switch, new() { Name = "Always thinks before answering" })).ToBeDisabledAsync();
        await playground.MaxTokens.FillAsync("64");
        await playground.MaxTokens.BlurAsync();
        await playground.Prompt.FillAsync("Why is the sky blue?");
        await playground.ViewCode.ClickAsync();

        await Expect(playground.CodeDialog).ToBeVisibleAsync();
        await Expect(playground.CodeTab("curl")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(playground.CodeSample).ToContainTextAsync("\"model\": \"deepseek-r1\"");
        await Expect(playground.CodeSample).ToContainTextAsync("\"max_tokens\": 64");
        await playground.CodeTab("C#").ClickAsync();
        await Expect(playground.CodeSample).ToContainTextAsync("new ChatClient(\"deepseek-r1\"");
        await Expect(playground.CodeSample).ToContainTextAsync("MaxOutputTokenCount = 64");
        await playground.Page.Keyboard.PressAsync("Escape");
        await Expect(playground.CodeDialog).ToBeHiddenAsync();
        await Expect(playground.Prompt).ToHaveValueAsync("Why is the sky blue?"); // the draft is not part of the request, and stays
    });

    [Fact]
    public Task StopEndsTheReplyAndChargesOnlyWhatArrived() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "2", "--reason", "e2e");
        var playground = new PlaygroundPage(await NewPageAsync(user));

        await playground.GotoAsync();
        await playground.AskAsync("Write a long essay about rivers.");
        await Expect(playground.LastReplyText).Not.ToBeEmptyAsync();
        await playground.Stop.ClickAsync();

        await Expect(playground.LastReplyUsage).ToContainTextAsync("stopped — charged for what arrived");
        await Expect(playground.Send).ToBeVisibleAsync();
    });

    [Fact]
    public Task SwitchedOffApiIsExplainedInThePlayground() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "1", "--reason", "e2e");
        var playground = new PlaygroundPage(await NewPageAsync(user));
        await playground.GotoAsync();

        await Portal.Server.RunAdminAsync("api", "--off");
        try
        {
            await playground.AskAsync("Hello?");
            await Expect(playground.LastReplyError).ToContainTextAsync("switched off by an administrator");
        }
        finally
        {
            await Portal.Server.RunAdminAsync("api", "--on");
        }
    });
}
