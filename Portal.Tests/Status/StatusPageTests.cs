using Portal.Status;
using Bunit;
using MudBlazor.Services;
using Portal.Usage;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Status;

/// <summary>The public status page, served without an account, from seeded usage records.</summary>
public sealed class StatusPageTests
{
    [Fact]
    public async Task AnyoneSeesAvailabilityAndLatencyPerModelAndNoTrafficWhereThereIsNone()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync("ada@example.com", "correct horse battery");
        var now = app.Now();
        await app.AddAsync(
            Record(ada.Id, now.AddMinutes(-1), "glm-5", latency: 1_200, ttft: 150),
            Record(ada.Id, now.AddMinutes(-2), "glm-5", latency: 800, ttft: 90),
            Record(ada.Id, now.AddMinutes(-3), "glm-5", latency: 2_000, ttft: 300),
            Record(ada.Id, now.AddMinutes(-4), "glm-5", status: 502, error: "upstream_error"),
            Record(ada.Id, now.AddMinutes(-5), "glm-5", status: 429, error: "rate_limit_exceeded"),
            Record(ada.Id, now.AddHours(-6), "kimi-k2", latency: 640, ttft: 80));
        using var browser = app.CreateBrowser();

        var html = await browser.GetPageAsync("/status");

        Assert.Contains("<title>Status · Portal</title>", html);
        var glm = Html.Text(Section(html, "glm-5"));
        Assert.Contains("Last hour 75.0% Latency p50 1.20 s First token p50 150 ms Requests 5 · 1 failed", glm);
        Assert.Contains("Last 24 hours 75.0%", glm);
        var kimi = Html.Text(Section(html, "kimi-k2"));
        Assert.Contains("Last hour No traffic", kimi);
        Assert.Contains("Last 24 hours 100.0% Latency p50 640 ms First token p50 80 ms Requests 1", kimi);
        Assert.Contains("Last hour No traffic Last 24 hours No traffic", Html.Text(Section(html, "glm-5.2")));
        Assert.Contains("href=\"/status\"", html); // linked from the footer of every page
    }

    [Fact]
    public async Task HoweverOftenItIsAskedForTheStoreIsReadAtMostEveryHalfMinute()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync("ada@example.com", "correct horse battery");
        await app.AddAsync(Record(ada.Id, app.Now().AddMinutes(-1), "glm-5"));
        using var browser = app.CreateBrowser();
        var first = await browser.GetPageAsync("/status");
        Assert.Contains("Requests 1", Html.Text(Section(first, "glm-5")));

        // The page is public, and each fresh look sorts a day of every model's records.
        await app.AddAsync(Record(ada.Id, app.Now(), "glm-5"));
        app.Time.Advance(StatusQueries.MaxAge - TimeSpan.FromSeconds(1));
        Assert.Equal(Html.Text(first), Html.Text(await browser.GetPageAsync("/status")));

        app.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("Requests 2", Html.Text(Section(await browser.GetPageAsync("/status"), "glm-5")));
    }

    [Fact]
    public async Task AWindowShowsItsLevelAndFailuresOrThatThereWasNoTraffic()
    {
        await using var ctx = new BunitContext();
        ctx.Services.AddMudServices();

        var down = ctx.Render<StatusWindow>(p => p.Add(c => c.Title, "Last hour").Add(c => c.TestId, "last-hour")
            .Add(c => c.Stats, new WindowStats(Requests: 12, Counted: 10, Failures: 1, MedianLatencyMs: 900, MedianTimeToFirstTokenMs: null)));
        var quiet = ctx.Render<StatusWindow>(p => p.Add(c => c.Title, "Last hour").Add(c => c.TestId, "last-hour").Add(c => c.Stats, WindowStats.Empty));

        Assert.Equal("90.0%", down.Find("[data-testid=availability]").TextContent.Trim());
        Assert.Contains("level-down", down.Find("[data-testid=availability]").ClassName);
        Assert.Equal("12 · 1 failed", down.Find("[data-testid=requests]").TextContent.Trim());
        Assert.Equal("—", down.Find("[data-testid=ttft]").TextContent.Trim());
        Assert.Equal("No traffic", quiet.Find("[data-testid=no-traffic]").TextContent.Trim());
        Assert.Empty(quiet.FindAll("[data-testid=availability]"));
    }

    [Fact]
    public void AvailabilityIsNeverRoundedUpToPerfect()
    {
        Assert.Equal("99.9%", Display.Percent(1999 / 2000d));
        Assert.Equal("100.0%", Display.Percent(1));
        Assert.Equal("0.0%", Display.Percent(0));
    }

    private static string Section(string html, string model)
    {
        var start = html.IndexOf($"data-model=\"{model}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section for {model}");
        var next = html.IndexOf("data-testid=\"status-model\"", start, StringComparison.Ordinal);
        var end = next >= 0 ? next : html.IndexOf("class=\"dash-note\"", start, StringComparison.Ordinal);
        return html[start..end];
    }
}
