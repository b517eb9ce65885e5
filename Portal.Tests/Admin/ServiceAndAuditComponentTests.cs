using Portal.Status;
using Portal.Billing;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Tests.Gateway;
using Portal.Usage;

namespace Portal.Tests.Admin;

/// <summary>The API switch, the usage chart and the audit log pages.</summary>
public sealed class ServiceAndAuditComponentTests : AdminComponentTestBase
{
    private const string EntryRows = "tbody tr.mud-table-row";

    [Fact]
    public async Task TheApiSwitchAsksForConfirmationThenFlipsAndIsAudited()
    {
        var admin = await SignInAsAdminAsync();
        var panel = Render<ApiSwitchPanel>();
        panel.WaitForAssertion(() => Assert.Equal("On: /api/v1 serves requests.", panel.Find("[data-testid=api-state]").TextContent.Trim()), Wait);

        panel.Find("button:contains('Switch the API off')").Click();
        Answer("Every client, on every instance, gets 503", "Cancel");
        Assert.True(await App.Service<ApiSwitch>().IsOnAsync());
        Assert.Equal(0, await App.InStoreAsync(db => db.AuditEntries.CountAsync()));

        panel.Find("button:contains('Switch the API off')").Click();
        Answer("Switch the public API off?", "Yes, switch it off");

        panel.WaitForAssertion(() => Assert.StartsWith("Off:", panel.Find("[data-testid=api-state]").TextContent.Trim()), Wait);
        ExpectSnackbar("The public API is off: every instance answers /api/v1 with 503 within a second.");
        Assert.False(await App.Service<ApiSwitch>().IsOnAsync());
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((admin.Id, AuditActions.ApiSwitch, """{"from":"on","to":"off"}"""), (entry.ActorId, entry.Action, entry.Details));
    }

    [Fact]
    public async Task ANonAdminCannotFlipTheSwitchThroughTheCircuit()
    {
        await SignInAsNonAdminAsync();

        var panel = Render<ApiSwitchPanel>();

        panel.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, panel.Find("[role=alert]").TextContent.Trim()), Wait);
        Assert.Empty(panel.FindAll("button"));
        Assert.True(await App.Service<ApiSwitch>().IsOnAsync());
    }

    [Fact]
    public async Task TheUsagePanelTotalsTheLast30DaysOfEveryUser()
    {
        var admin = await SignInAsAdminAsync();
        var a = await App.CreateApiAccountAsync();
        var b = await App.CreateApiAccountAsync();
        var now = App.Time.GetUtcNow().UtcDateTime;
        await App.InStoreAsync(async db =>
        {
            db.UsageRecords.AddRange(
                Usage(a.UserId, now, 1_500_000),
                Usage(b.UserId, now.AddDays(-3), 250_000),
                Usage(b.UserId, now.AddDays(-29), 1),
                Usage(a.UserId, now.AddDays(-30), 9_000_000)); // outside the window
            return await db.SaveChangesAsync();
        });

        // Each chart measures its box through JavaScript and draws to that size.
        JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudObserveElementSize", _ => true).SetResult(new() { Width = 600, Height = 240 });
        var chart = Render<UsagePanel>();

        chart.WaitForAssertion(() => Assert.Equal("3 requests $1.750001 spent All users, API and playground; UTC days.",
            System.Text.RegularExpressions.Regex.Replace(chart.Find("[data-testid=usage-totals]").TextContent, @"\s+", " ").Trim()), Wait);
        var days = await App.Service<ServiceAdmin>().UsageAsync(await App.GuardFor(admin.Id).RequireAdminAsync());
        Assert.Equal(30, days.Count);
        Assert.Equal(now.Date, days[^1].Day);
        Assert.Equal((1, 1_500_000L), (days[^1].Requests, days[^1].SpendMicros));
        Assert.Equal((1, 1L), (days[0].Requests, days[0].SpendMicros));
        Assert.Equal(2, chart.FindAll("svg").Count(svg => svg.QuerySelector("path, rect") is not null));
        // Each value axis runs from zero to a round figure at or above the biggest day.
        Assert.Equal(["0", "1"], Ticks(chart, 0));
        Assert.Equal(["$0", "$0.5", "$1", "$1.5"], Ticks(chart, 1));
        // One label a week under the bars.
        Assert.Equal(5, chart.FindAll("figure")[0].QuerySelectorAll(".mud-charts-xaxis text").Length);
        Assert.Equal(30, chart.FindAll("[data-testid=daily-table] tbody tr").Count);
    }

    [Fact]
    public async Task VerifyChainReportsAnIntactLogAndThenTheTamperedEntry()
    {
        await SignInAsAdminAsync();
        Assert.Equal(0, (await App.RunCliAsync("api", "--off")).ExitCode);
        Assert.Equal(0, (await App.RunCliAsync("api", "--on")).ExitCode);
        Assert.Equal(0, (await App.RunCliAsync("api", "--off")).ExitCode);
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll(EntryRows).Count), Wait);
        Assert.Contains("api.switch", page.Find(EntryRows).TextContent);

        page.Find("button:contains('Verify chain')").Click();
        page.WaitForAssertion(() => Assert.Equal("The chain is intact: 3 entries checked, all unchanged and in order.", page.Find("[data-testid=chain-result]").TextContent.Trim()), Wait);

        var middle = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Skip(1).Select(e => e.Id).FirstAsync());
        await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Id == middle).ExecuteUpdateAsync(s => s.SetProperty(e => e.Actor, "nobody")));
        page.Find("button:contains('Verify chain')").Click();

        page.WaitForAssertion(() => Assert.StartsWith($"The chain is broken at entry {middle}.", page.Find("[data-testid=chain-result]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task TheAuditLogPagesNewestFirstAndFiltersByActionOnTheServer()
    {
        var admin = await SignInAsAdminAsync();
        var actor = new AuditActor(admin.Id, admin.Email!);
        for (var i = 0; i < 29; i++)
        {
            await App.Service<ApiSwitch>().SetAsync(i % 2 == 1, actor);
        }

        await App.Service<UserAdmin>().AdjustCreditsAsync(await App.GuardFor(admin.Id).RequireAdminAsync(), admin.Id, new CreditAdjustment { Amount = "1", Reason = "test" });
        var page = Render<AuditPage>();

        page.WaitForAssertion(() => Assert.Equal(25, page.FindAll(EntryRows).Count), Wait);
        Assert.StartsWith("30", page.Find(EntryRows).QuerySelector("td")!.TextContent.Trim());
        page.Find("button[aria-label='Next page']").Click();
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll(EntryRows).Count), Wait);
        Assert.Equal("1", page.FindAll(EntryRows)[^1].QuerySelector("td")!.TextContent.Trim());

        page.Find(".mud-input-control.audit-filter").MouseDown();
        Popovers.WaitForAssertion(() => Assert.NotEmpty(Popovers.FindAll(".mud-list-item")), Wait);
        Popovers.FindAll(".mud-list-item").Single(item => item.TextContent.Trim() == AuditActions.CreditsGrant).Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(EntryRows)), Wait);
        Assert.Contains(AuditActions.CreditsGrant, page.Find(EntryRows).TextContent);
    }

    private static List<string> Ticks(IRenderedComponent<IComponent> chart, int figure) =>
        chart.FindAll("figure")[figure].QuerySelectorAll(".mud-charts-yaxis text").Select(t => t.TextContent.Trim()).ToList();

    private static UsageRecord Usage(string userId, DateTime at, long cost) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"),
        UserId = userId,
        ModelId = "glm-5",
        Status = 200,
        Provenance = Provenance.Reported,
        CostMicros = cost,
        CreatedAt = at,
    };
}
