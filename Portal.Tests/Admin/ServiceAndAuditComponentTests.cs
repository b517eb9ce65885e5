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
    [Fact]
    public async Task TheApiSwitchAsksForConfirmationThenFlipsAndIsAudited()
    {
        var admin = await SignInAsAdminAsync();
        var panel = Render<ApiSwitchPanel>();
        panel.WaitForAssertion(() => Assert.Equal("On: /api/v1 serves requests.", panel.Find("[data-testid=api-state]").TextContent.Trim()), Wait);

        panel.Find("button:contains('Switch the API off')").Click();
        Assert.Contains("Every client, on every instance, gets 503", panel.Find(".confirm").TextContent);
        panel.Find("button:contains('Cancel')").Click();
        Assert.True(await App.Service<ApiSwitch>().IsOnAsync());

        panel.Find("button:contains('Switch the API off')").Click();
        panel.Find("button:contains('Yes, switch it off')").Click();

        panel.WaitForAssertion(() => Assert.StartsWith("Off:", panel.Find("[data-testid=api-state]").TextContent.Trim()), Wait);
        Assert.False(await App.Service<ApiSwitch>().IsOnAsync());
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((admin.Id, AuditActions.ApiSwitch, """{"from":"on","to":"off"}"""), (entry.ActorId, entry.Action, entry.Details));
    }

    [Fact]
    public async Task ANonAdminCannotFlipTheSwitchThroughTheCircuit()
    {
        await SignInAsNonAdminAsync();

        var panel = Render<ApiSwitchPanel>();

        panel.WaitForAssertion(() => Assert.Equal(AdminComponentBase.DeniedMessage, panel.Find(".alert-error").TextContent.Trim()), Wait);
        Assert.Empty(panel.FindAll("button"));
        Assert.True(await App.Service<ApiSwitch>().IsOnAsync());
    }

    [Fact]
    public async Task TheUsageChartTotalsTheLast30DaysOfEveryUser()
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

        // The chart measures its box through JavaScript before drawing.
        JSInterop.Setup<Radzen.Blazor.Rendering.Rect>("Radzen.createChart", _ => true)
            .SetResult(new Radzen.Blazor.Rendering.Rect { Width = 600, Height = 220 });
        var chart = Render<UsageChart>();

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
        Assert.Equal(30, chart.FindAll(".usage-table tbody tr").Count);
    }

    [Fact]
    public async Task VerifyChainReportsAnIntactLogAndThenTheTamperedEntry()
    {
        await SignInAsAdminAsync();
        Assert.Equal(0, (await App.RunCliAsync("api", "--off")).ExitCode);
        Assert.Equal(0, (await App.RunCliAsync("api", "--on")).ExitCode);
        Assert.Equal(0, (await App.RunCliAsync("api", "--off")).ExitCode);
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tbody tr").Count), Wait);
        Assert.Contains("api.switch", page.Find("tbody tr").TextContent);

        page.Find("button:contains('Verify chain')").Click();
        page.WaitForAssertion(() => Assert.Equal("The chain is intact: 3 entries checked, all unchanged and in order.", page.Find("[data-testid=chain-result]").TextContent.Trim()), Wait);

        var middle = await App.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Skip(1).Select(e => e.Id).FirstAsync());
        await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Id == middle).ExecuteUpdateAsync(s => s.SetProperty(e => e.Actor, "nobody")));
        page.Find("button:contains('Verify chain')").Click();

        page.WaitForAssertion(() => Assert.StartsWith($"The chain is broken at entry {middle}.", page.Find("[data-testid=chain-result]").TextContent.Trim()), Wait);
    }

    private static List<string> Ticks(IRenderedComponent<IComponent> chart, int figure) =>
        chart.FindAll("figure")[figure].QuerySelectorAll(".rz-value-axis .rz-tick-text").Select(t => t.TextContent.Trim()).ToList();

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
