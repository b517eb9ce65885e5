using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Portal.Observability;
using Portal.Tests.Gateway;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Observability;

public sealed partial class MetricsTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" })
    {
        RemoteIp = IPAddress.Loopback,
    };

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ExpositionCountsRequestsTokensCreditsAndLatencyAndParsesLineByLine()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.ApiClient(account.Key);
        for (var i = 0; i < 3; i++)
        {
            var ok = await client.PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"Say hello {{i}}"}],"max_tokens":30,"stream":{{(i == 0 ? "true" : "false")}}}""");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            await ok.Content.ReadAsStringAsync();
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostChatAsync("""{"model":"glm-5","messages":"not a list"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostChatAsync("""{"model":"<script>alert(1)</script>","messages":[{"role":"user","content":"hi"}]}""")).StatusCode);
        var broke = await _app.CreateApiAccountAsync(credits: 0m);
        Assert.Equal(HttpStatusCode.PaymentRequired, (await _app.ApiClient(broke.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"hi"}]}""")).StatusCode);

        var response = await _app.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var metrics = Exposition.Parse(await response.Content.ReadAsStringAsync());

        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.Status == 200).ToListAsync());
        Assert.Equal(3, records.Count);
        Assert.Equal(3, metrics.Value("portal_requests_total", ("model", "glm-5"), ("status", "200")));
        Assert.Equal(1, metrics.Value("portal_requests_total", ("model", "glm-5"), ("status", "402")));
        // A model the catalog doesn't know is never a label: client text stays out of the metrics.
        Assert.Equal(1, metrics.Value("portal_requests_total", ("model", "unknown"), ("status", "400")));
        Assert.Equal(1, metrics.Value("portal_requests_total", ("model", "unknown"), ("status", "404")));
        Assert.Equal(records.Sum(r => r.PromptTokens), metrics.Value("portal_tokens_total", ("model", "glm-5"), ("type", "prompt")));
        Assert.Equal(records.Sum(r => r.CompletionTokens), metrics.Value("portal_tokens_total", ("model", "glm-5"), ("type", "completion")));
        Assert.Equal(records.Sum(r => r.CostMicros), metrics.Value("portal_credits_charged_microdollars_total", ("model", "glm-5")));
        Assert.Equal(4, metrics.Value("portal_request_duration_seconds_count", ("model", "glm-5")));
        Assert.Equal(4, metrics.Value("portal_request_duration_seconds_bucket", ("model", "glm-5"), ("le", "+Inf")));
        Assert.Equal(1, metrics.Value("portal_time_to_first_token_seconds_count", ("model", "glm-5"))); // streams only: a non-streamed reply comes whole
        Assert.Equal(0, metrics.Value("portal_holds_outstanding"));
        Assert.Equal(("counter", "histogram", "gauge"), (metrics.Types["portal_requests_total"], metrics.Types["portal_request_duration_seconds"], metrics.Types["portal_holds_outstanding"]));
        metrics.AssertHistogramsAreCumulative();
        // The bounds ADR 5 chose, kept through the change of exporter (ADR 10): other bounds would be other series.
        Assert.Equal(["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120", "300", "+Inf"], metrics.Bounds("portal_request_duration_seconds_bucket", ("model", "glm-5")));
        Assert.Equal(metrics.Bounds("portal_request_duration_seconds_bucket", ("model", "glm-5")), metrics.Bounds("portal_time_to_first_token_seconds_bucket", ("model", "glm-5")));

        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(account.Key, text);
        Assert.DoesNotContain("script", text);
    }

    [Fact]
    public async Task UpstreamErrorsAndRetriesAreCounted()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(503, "overloaded"));
        await _app.AddUpstreamAsync("kimi-k2", provider.BaseUrl, "kimi", "sk-upstream-secret-metrics-0123456789");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"kimi-k2","messages":[{"role":"user","content":"Hello"}],"max_tokens":10}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var text = await (await _app.CreateClient().GetAsync("/metrics")).Content.ReadAsStringAsync();
        var metrics = Exposition.Parse(text);
        Assert.Equal(2, metrics.Value("portal_upstream_errors_total", ("code", "upstream_error"), ("model", "kimi-k2")));
        Assert.Equal(1, metrics.Value("portal_upstream_retries_total", ("model", "kimi-k2")));
        Assert.Equal(1, metrics.Value("portal_requests_total", ("model", "kimi-k2"), ("status", "502")));
        Assert.DoesNotContain("sk-upstream-secret", text);
        Assert.DoesNotContain(provider.BaseUrl, text);
        // HttpClient's own metric counts both attempts, without the upstream's host or port (ADR 5).
        Assert.Equal(2, metrics.Value("http_client_request_duration_seconds_count", ("error_type", "503"), ("http_request_method", "POST"),
            ("http_response_status_code", "503"), ("network_protocol_version", "1.1"), ("url_scheme", "http")));
        Assert.DoesNotContain("server_address", text);
        Assert.DoesNotContain("server_port", text);
        Assert.DoesNotContain(new Uri(provider.BaseUrl).Port.ToString(CultureInfo.InvariantCulture), text);
    }

    [Fact]
    public async Task AspNetCoreRequestDurationAppearsAfterARequest()
    {
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/healthz")).StatusCode);

        var metrics = Exposition.Parse(await (await _app.CreateClient().GetAsync("/metrics")).Content.ReadAsStringAsync());

        (string, string)[] healthz = [("http_request_method", "GET"), ("http_response_status_code", "200"), ("http_route", "/healthz"), ("network_protocol_version", "1.1"), ("url_scheme", "http")];
        Assert.Equal("histogram", metrics.Types["http_server_request_duration_seconds"]);
        Assert.Equal(1, metrics.Value("http_server_request_duration_seconds_count", healthz));
        Assert.Equal(1, metrics.Value("http_server_request_duration_seconds_bucket", [.. healthz, ("le", "+Inf")]));
        Assert.Equal("gauge", metrics.Types["http_server_active_requests"]);
    }

    [Fact]
    public async Task EachHostExportsOnlyItsOwnMeasurements()
    {
        // Tests run many hosts in one process, while OpenTelemetry listens to meters by name (ADR 10).
        using var other = new PortalApplication(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" }) { RemoteIp = IPAddress.Loopback };
        var mine = _app.CreateClient(); // both hosts listen before either measures anything
        var account = await other.CreateApiAccountAsync(credits: 1m);

        Assert.Equal(HttpStatusCode.OK, (await other.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":5}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mine.GetAsync("/healthz")).StatusCode);

        var myText = await (await mine.GetAsync("/metrics")).Content.ReadAsStringAsync();
        var theirs = Exposition.Parse(await (await other.CreateClient().GetAsync("/metrics")).Content.ReadAsStringAsync());
        Assert.DoesNotContain("portal_requests_total", myText);
        Assert.DoesNotContain("/api/v1/chat/completions", myText);
        Assert.Equal(0, Exposition.Parse(myText).Value("portal_holds_outstanding")); // one gauge, not one per host
        Assert.Equal(1, theirs.Value("portal_requests_total", ("model", "glm-5"), ("status", "200")));
        Assert.DoesNotContain("/healthz", theirs.Routes());
    }

    [Fact]
    public void OtlpExportIsOffUnlessAnEndpointIsConfigured()
    {
        static IConfiguration Settings(params (string Key, string Value)[] settings) =>
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();

        Assert.False(ObservabilityExtensions.OtlpConfigured(Settings()));
        Assert.False(ObservabilityExtensions.OtlpConfigured(Settings(("OTEL_EXPORTER_OTLP_ENDPOINT", " "))));
        Assert.True(ObservabilityExtensions.OtlpConfigured(Settings(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"))));
        Assert.True(ObservabilityExtensions.OtlpConfigured(Settings(("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:4318/v1/metrics"))));
    }

    [Fact]
    public async Task WithAnOtlpEndpointMetricsAreAlsoPushed()
    {
        await using var collector = await FakeUpstream.StartAsync(Reply.Status(200, new System.Text.Json.Nodes.JsonObject()));
        using var app = new PortalApplication(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl[..^"/v1".Length],
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "100",
        });
        app.CreateClient(); // starts the host

        for (var waited = 0; waited < 100 && collector.Requests.Count == 0; waited++)
        {
            await Task.Delay(100);
        }

        var export = collector.Requests.FirstOrDefault();
        Assert.NotNull(export);
        Assert.Equal(("POST", "/v1/metrics", "application/x-protobuf"), (export.Method, export.Path, export.Header("Content-Type")));
    }

    [Fact]
    public async Task WithoutATokenOnlyDirectLoopbackRequestsMayRead()
    {
        _app.RemoteIp = IPAddress.Parse("203.0.113.7");
        var remote = await _app.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, remote.StatusCode);
        Assert.DoesNotContain("portal_", await remote.Content.ReadAsStringAsync());

        // A reverse proxy on this machine connects from loopback, relaying anyone.
        _app.RemoteIp = IPAddress.Loopback;
        var proxied = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        proxied.Headers.Add("X-Forwarded-For", "203.0.113.7");
        Assert.Equal(HttpStatusCode.Forbidden, (await _app.CreateClient().SendAsync(proxied)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task WithATokenEveryoneMustPresentIt()
    {
        const string token = "metrics-token-0123456789abcdef";
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Observability:MetricsToken"] = token }) { RemoteIp = IPAddress.Loopback };
        var client = app.CreateClient();

        var anonymous = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(token, await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(client, "wrong-token-0123456789abcdef")).StatusCode);

        app.RemoteIp = IPAddress.Parse("203.0.113.7");
        var authorized = await Get(client, token);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Contains("# TYPE portal_holds_outstanding gauge", await authorized.Content.ReadAsStringAsync());
    }

    [Fact]
    public void AShortTokenStopsStartUpNamingTheSetting()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Observability:MetricsToken"] = "short" });

        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("Observability:MetricsToken must be at least 16 characters", error.ToString());
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    /// <summary>A strict reader of the text exposition format: every line is a comment or a sample, or the test fails.</summary>
    internal sealed partial class Exposition
    {
        private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

        public Dictionary<string, string> Types { get; } = [];

        public static Exposition Parse(string text)
        {
            Assert.EndsWith("\n", text);
            var exposition = new Exposition();
            foreach (var line in text.TrimEnd('\n').Split('\n'))
            {
                if (line.StartsWith('#'))
                {
                    var comment = CommentLine().Match(line);
                    Assert.True(comment.Success, $"bad comment line: {line}");
                    if (comment.Groups["kind"].Value == "TYPE")
                    {
                        Assert.Matches("^(counter|gauge|histogram)$", comment.Groups["text"].Value);
                        exposition.Types.Add(comment.Groups["name"].Value, comment.Groups["text"].Value);
                    }

                    continue;
                }

                var sample = SampleLine().Match(line);
                Assert.True(sample.Success, $"bad sample line: {line}");
                var labels = LabelPair().Matches(sample.Groups["labels"].Value).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value);
                var value = sample.Groups["value"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
                var family = Regex.Replace(sample.Groups["name"].Value, "_(bucket|sum|count)$", "");
                Assert.True(exposition.Types.ContainsKey(family) || exposition.Types.ContainsKey(sample.Groups["name"].Value), $"sample before its # TYPE: {line}");
                exposition._samples.Add((sample.Groups["name"].Value, labels, value));
            }

            return exposition;
        }

        public double Value(string name, params (string Key, string Value)[] labels)
        {
            var matches = _samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();
            Assert.True(matches.Count == 1, $"expected one sample {name}{{{string.Join(",", labels)}}}, found {matches.Count}");
            return matches[0].Value;
        }

        /// <summary>The <c>le</c> bounds of one histogram series, in order.</summary>
        public List<string> Bounds(string name, params (string Key, string Value)[] labels) =>
            _samples.Where(s => s.Name == name && s.Labels.Count == labels.Length + 1 && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))
                .Select(s => s.Labels["le"]).ToList();

        /// <summary>Every <c>http_route</c> label value.</summary>
        public IEnumerable<string> Routes() => _samples.Select(s => s.Labels.GetValueOrDefault("http_route")).OfType<string>().Distinct();

        public void AssertHistogramsAreCumulative()
        {
            foreach (var series in _samples.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal))
                .GroupBy(s => s.Name + string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key))))
            {
                var counts = series.Select(s => s.Value).ToList();
                Assert.Equal(counts.Order(), counts);
                Assert.Equal("+Inf", series.Last().Labels["le"]);
            }
        }

        [GeneratedRegex("^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<text>.+)$")]
        private static partial Regex CommentLine();

        [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (?<value>[-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|Inf|NaN))$""")]
        private static partial Regex SampleLine();

        [GeneratedRegex("(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=\"(?<value>(?:[^\"\\\\]|\\\\.)*)\"")]
        private static partial Regex LabelPair();
    }
}
