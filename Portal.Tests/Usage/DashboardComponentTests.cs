using System.Text.RegularExpressions;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Tests.Components;
using Portal.Usage;

namespace Portal.Tests.Usage;

/// <summary>The dashboard's pieces, given data: what they total and show.</summary>
public sealed class DashboardComponentTests : ComponentTestBase
{
    private static readonly DateTime Today = new(2026, 11, 22, 0, 0, 0, DateTimeKind.Utc);
    private static readonly UsageMeasure[] DashboardCharts = [UsageMeasure.Spend, UsageMeasure.Tokens];

    public DashboardComponentTests()
    {
        // The charts fit their box, which MudBlazor measures through JavaScript before drawing.
        JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudObserveElementSize", _ => true)
            .SetResult(new MudBlazor.Interop.ElementSize { Width = 650, Height = 240, Timestamp = 1 });
    }

    [Fact]
    public void TheBalanceCardsShowAvailableOnHoldAndTheWindowsTotals()
    {
        var days = Window((Today, new UsageDay(Today, 2, 100, 50, 1_500_000)), (Today.AddDays(-5), new UsageDay(Today.AddDays(-5), 3, 1_000, 2_000, 250)));

        var cards = Render<BalanceCards>(p => p
            .Add(c => c.Balance, new BalanceSummary(BalanceMicros: 3_250_000, OnHoldMicros: 40_000, TotalGrantedMicros: 5_000_000, TotalUsedMicros: 1_710_000))
            .Add(c => c.Days, days));

        Assert.Equal("Available balance $3.25 $5.00 granted · $1.71 used", Text(cards, "balance-available"));
        Assert.Equal("On hold $0.04 Reserved by running requests", Text(cards, "balance-hold"));
        Assert.Equal("Spend, last 30 days $1.50025 $1.50 today", Text(cards, "spend-30d"));
        Assert.Equal("Requests, last 30 days 5 3,150 tokens", Text(cards, "requests-30d"));
    }

    [Fact]
    public void NothingOnHoldSaysNoRequestIsRunning()
    {
        var cards = Render<BalanceCards>(p => p
            .Add(c => c.Balance, new BalanceSummary(0, 0, 0, 0))
            .Add(c => c.Days, Window()));

        Assert.Equal("On hold $0.00 No request running", Text(cards, "balance-hold"));
    }

    [Fact]
    public void TheDailyChartDrawsBothChartsAndTablesEveryDayNewestFirst()
    {
        var days = Window((Today, new UsageDay(Today, 2, 100, 50, 1_500_000)), (Today.AddDays(-29), new UsageDay(Today.AddDays(-29), 1, 7, 3, 1)));

        var chart = Render<DailyUsageChart>(p => p.Add(c => c.Days, days).Add(c => c.Measures, DashboardCharts));

        // A spend bar for each day; a token segment for each day's prompt and completion that has any.
        chart.WaitForAssertion(() => Assert.Equal(30, Bars(chart, 0)));
        chart.WaitForAssertion(() => Assert.Equal(4, Bars(chart, 1)));
        var rows = chart.FindAll("[data-testid=daily-table] tbody tr");
        Assert.Equal(30, rows.Count);
        Assert.Equal("2026-11-22 2 100 50 $1.50", Cells(rows[0]));
        Assert.Equal("2026-11-21 0 0 0 $0.00", Cells(rows[1]));
        Assert.Equal("2026-10-24 1 7 3 $0.000001", Cells(rows[^1]));
    }

    [Fact]
    public void TheRequestsAndSpendChartsOfTheServicePageLeaveTheTokensOutOfTheTable()
    {
        var days = Window((Today, new UsageDay(Today, 4, 100, 50, 1_500_000)));

        var chart = Render<DailyUsageChart>(p => p.Add(c => c.Days, days).Add(c => c.Measures, [UsageMeasure.Requests, UsageMeasure.Spend]));

        Assert.Equal(["Requests per day", "Spend per day (USD)"], chart.FindAll("figcaption").Select(c => c.TextContent.Trim()));
        Assert.Equal("usage-requests-caption", chart.Find("[data-testid=requests-chart] figcaption").Id);
        chart.WaitForAssertion(() => Assert.Equal(["0", "2", "4"], Ticks(chart, 0)));
        chart.WaitForAssertion(() => Assert.Equal(["$0", "$0.5", "$1", "$1.5"], Ticks(chart, 1)));
        Assert.Equal("2026-11-22 4 $1.50", Cells(chart.Find("[data-testid=daily-table] tbody tr")));
    }

    [Fact]
    public void TheSpendAxisIsReadableWhenADaysSpendIsAFractionOfACent()
    {
        var days = Window((Today, new UsageDay(Today, 3, 300, 900, 1_230)), (Today.AddDays(-1), new UsageDay(Today.AddDays(-1), 1, 10, 20, 45)));

        var chart = Render<DailyUsageChart>(p => p.Add(c => c.Days, days).Add(c => c.Measures, DashboardCharts));

        // From zero to a round figure at or above the biggest day ($0.00123; 1,200 tokens).
        chart.WaitForAssertion(() => Assert.Equal(["$0", "$0.0005", "$0.001", "$0.0015"], Ticks(chart, 0)));
        chart.WaitForAssertion(() => Assert.Equal(["0", "500", "1,000", "1,500"], Ticks(chart, 1)));
    }

    [Fact]
    public void TheAxesStartAtZeroWhenEveryDayHadUsage()
    {
        var days = Enumerable.Range(0, UsageQueries.Days)
            .Select(i => new UsageDay(Today.AddDays(i - UsageQueries.Days + 1), 1, 1_500 + i, 1_700, 1_500_000 + (i * 10_000)))
            .ToList();

        var chart = Render<DailyUsageChart>(p => p.Add(c => c.Days, days).Add(c => c.Measures, DashboardCharts));

        // Bars drawn from $1.40 up would make $1.79 look several times $1.50.
        chart.WaitForAssertion(() => Assert.Equal(["$0", "$1", "$2"], Ticks(chart, 0)));
        chart.WaitForAssertion(() => Assert.Equal(["0", "2,000", "4,000"], Ticks(chart, 1)));
    }

    [Fact]
    public void TheModelTableHasARowPerModelAndTheirTotal()
    {
        var table = Render<ModelBreakdown>(p => p.Add(c => c.Models, new[]
        {
            new ModelUsage("glm-5", 3, 1_200, 800, 3_000_000),
            new ModelUsage("kimi-k2", 1, 10, 20, 1_000_000),
        }));

        var rows = table.FindAll("[data-testid=model-row]");
        Assert.Equal(["glm-5 3 1,200 800 $3.00", "kimi-k2 1 10 20 $1.00"], rows.Select(r => Clean(r.TextContent)));
        Assert.Equal("width: 75%", rows[0].QuerySelector(".share-bar > span")!.GetAttribute("style"));
        Assert.Equal("Total 4 1,210 820 $4.00", Clean(table.Find("[data-testid=model-total]").TextContent));
    }

    [Fact]
    public void WithNoUsageTheModelTableSaysHowToStart()
    {
        var table = Render<ModelBreakdown>(p => p.Add(c => c.Models, Array.Empty<ModelUsage>()));

        Assert.Contains("No requests in the last 30 days", table.Find("[data-testid=models-empty]").TextContent);
        Assert.NotNull(table.Find("[data-testid=models-empty] a[href='/playground']"));
    }

    /// <summary>30 days ending today, empty except for the given ones.</summary>
    private static IReadOnlyList<UsageDay> Window(params (DateTime Day, UsageDay Usage)[] days) =>
        Enumerable.Range(0, UsageQueries.Days)
            .Select(i => Today.AddDays(i - UsageQueries.Days + 1))
            .Select(day => days.FirstOrDefault(d => d.Day == day).Usage ?? new UsageDay(day, 0, 0, 0, 0))
            .ToList();

    /// <summary>The value axis's tick labels of the nth chart, bottom to top.</summary>
    private static List<string> Ticks(IRenderedComponent<IComponent> chart, int figure) =>
        chart.FindAll("figure")[figure].QuerySelectorAll(".mud-charts-yaxis text").Select(t => t.TextContent.Trim()).ToList();

    /// <summary>How many bars (or stacked segments) the nth chart draws.</summary>
    private static int Bars(IRenderedComponent<IComponent> chart, int figure) =>
        chart.FindAll("figure")[figure].QuerySelectorAll("path.mud-chart-bar").Length;

    private static string Text(IRenderedComponent<IComponent> fragment, string testId) => Clean(fragment.Find($"[data-testid={testId}]").TextContent);

    private static string Cells(AngleSharp.Dom.IElement row) => string.Join(" ", row.Children.Select(cell => Clean(cell.TextContent)));

    private static string Clean(string text) => Regex.Replace(text, @"\s+", " ").Trim();
}
