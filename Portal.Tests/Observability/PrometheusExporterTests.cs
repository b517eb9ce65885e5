using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Observability;

namespace Portal.Tests.Observability;

/// <summary>The exposition format's details, on instruments made for the test.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private IMeterFactory Meters => _services.GetRequiredService<IMeterFactory>();

    [Fact]
    public void HistogramBucketsAreCumulativeAndABoundaryValueCountsInItsOwnBucket()
    {
        using var exporter = new PrometheusExporter(Meters);
        var histogram = Meters.Create("Portal.Test").CreateHistogram<double>("portal.test.wait", "s", "Waits.");
        foreach (var seconds in new[] { 0.05, 0.2, 0.2, 7, 1000 })
        {
            histogram.Record(seconds);
        }

        var text = exporter.Scrape();

        Assert.Contains("# HELP portal_test_wait_seconds Waits.\n# TYPE portal_test_wait_seconds histogram\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"0.05\"} 1\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"0.1\"} 1\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"0.25\"} 3\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"10\"} 4\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"300\"} 4\n", text);
        Assert.Contains("portal_test_wait_seconds_bucket{le=\"+Inf\"} 5\n", text);
        Assert.Contains("portal_test_wait_seconds_sum 1007.45\n", text);
        Assert.Contains("portal_test_wait_seconds_count 5\n", text);
    }

    [Fact]
    public void LabelValuesAreEscapedAndSortedByName()
    {
        using var exporter = new PrometheusExporter(Meters);
        var counter = Meters.Create("Portal.Test").CreateCounter<long>("portal.test.things");

        counter.Add(2, new TagList { { "zeta", "a \"quoted\" \\ value\nwith a newline" }, { "alpha", 42 } });
        counter.Add(3, new TagList { { "zeta", "a \"quoted\" \\ value\nwith a newline" }, { "alpha", 42 } });

        Assert.Contains("portal_test_things_total{alpha=\"42\",zeta=\"a \\\"quoted\\\" \\\\ value\\nwith a newline\"} 5\n", exporter.Scrape());
    }

    [Fact]
    public void TheSameTagsInAnotherOrderAreTheSameSeries()
    {
        using var exporter = new PrometheusExporter(Meters);
        var counter = Meters.Create("Portal.Test").CreateCounter<long>("portal.test.calls");

        counter.Add(2, new TagList { { "model", "glm-5" }, { "status", "200" } });
        counter.Add(3, new TagList { { "status", "200" }, { "model", "glm-5" } });

        // Two samples with one label set would make Prometheus reject the whole scrape.
        var samples = exporter.Scrape().Split('\n').Where(l => l.StartsWith("portal_test_calls_total", StringComparison.Ordinal));
        Assert.Equal(["portal_test_calls_total{model=\"glm-5\",status=\"200\"} 5"], samples);
    }

    [Fact]
    public void OnlyThisHostsPortalMetersAreExported()
    {
        using var exporter = new PrometheusExporter(Meters);
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        otherHost.GetRequiredService<IMeterFactory>().Create("Portal.Test").CreateCounter<long>("portal.other.host").Add(1);
        Meters.Create("Vendor.Library").CreateCounter<long>("vendor.calls").Add(1);
        Meters.Create("Portal.Test").CreateCounter<long>("portal.mine").Add(1);

        var text = exporter.Scrape();

        Assert.Contains("portal_mine_total 1\n", text);
        Assert.DoesNotContain("other_host", text);
        Assert.DoesNotContain("vendor", text);
    }
}
