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
