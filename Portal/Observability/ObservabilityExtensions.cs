using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Portal.Observability;

/// <summary>Bound from the <c>Observability</c> section.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>
    /// When set, <c>/metrics</c> answers only <c>Authorization: Bearer &lt;token&gt;</c>. When not,
    /// only direct loopback requests (no proxy header) may read it. ADR 5.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MinLength(16, ErrorMessage = "Observability:MetricsToken must be at least 16 characters.")]
    public string? MetricsToken { get; set; }
}

public static class ObservabilityExtensions
{
    /// <summary>
    /// ASP.NET Core's and HttpClient's own meters (.NET 8+). The OpenTelemetry instrumentation
    /// packages would only add these names on .NET 10, so they are named here directly (ADR 10).
    /// </summary>
    private const string AspNetCoreMeter = "Microsoft.AspNetCore.Hosting";

    private const string HttpClientMeter = "System.Net.Http";

    /// <summary>
    /// The upstream calls' duration keeps only these tags: <c>server.address</c> and
    /// <c>server.port</c> would show upstream hosts, which ADR 5 keeps out of the metrics.
    /// </summary>
    private static readonly MetricStreamConfiguration UpstreamCallTags = new()
    {
        TagKeys = ["error.type", "http.request.method", "http.response.status_code", "network.protocol.version", "url.scheme"],
    };

    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>().BindConfiguration(ObservabilityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(GatewayMetrics.MeterName, AspNetCoreMeter, HttpClientMeter)
                .AddPrometheusExporter(prometheus =>
                {
                    // Every scrape sees the latest measurements (the default caches 300 ms), and the
                    // series keep their labels: no otel_scope_* labels, no target_info metric.
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                    prometheus.ScopeInfoEnabled = false;
                    prometheus.TargetInfoEnabled = false;
                });
            if (OtlpConfigured(builder.Configuration))
            {
                metrics.AddOtlpExporter(); // endpoint, protocol, headers and interval: the OTEL_* variables
            }
        });
        // The view needs this host's meter factory, hence the service provider.
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) =>
        {
            var meters = services.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => View(instrument, meters));
        });
        return builder;
    }

    /// <summary>
    /// Off unless an OTLP endpoint is configured (the standard variables, for every signal or for
    /// metrics alone): the exporter would otherwise send to localhost:4317 every minute.
    /// </summary>
    internal static bool OtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);

    /// <summary>
    /// Decided once per instrument, when it is published, so it costs nothing per measurement.
    /// OpenTelemetry listens by meter name across the process; several hosts run in one process in
    /// the tests, and each must export only the instruments its own <see cref="IMeterFactory"/> made
    /// (ADR 10). Of HttpClient's instruments only the request duration is kept.
    /// </summary>
    private static MetricStreamConfiguration? View(Instrument instrument, IMeterFactory meters) => instrument switch
    {
        _ when !ReferenceEquals(instrument.Meter.Scope, meters) => MetricStreamConfiguration.Drop,
        { Meter.Name: HttpClientMeter, Name: "http.client.request.duration" } => UpstreamCallTags,
        { Meter.Name: HttpClientMeter } => MetricStreamConfiguration.Drop,
        _ => null, // as the instrument says, with its advice (bucket bounds)
    };

    /// <summary><c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    public static IEndpointRouteBuilder MapObservability(this IEndpointRouteBuilder endpoints)
    {
        // Every instrument (the holds gauge too) shows from the first scrape, before any request.
        endpoints.ServiceProvider.GetRequiredService<GatewayMetrics>();
        endpoints.MapHealth();
        endpoints.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: metrics => metrics.Use(ReadableAsync).Use(TextFormat), optionsName: null)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        return endpoints;
    }

    /// <summary>ADR 5: the token when one is set, else direct loopback requests only.</summary>
    private static Task ReadableAsync(HttpContext http, RequestDelegate exporter)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<ObservabilityOptions>>().Value;
        if (options.MetricsToken is { Length: > 0 } token)
        {
            var header = http.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return TypedResults.Text("Send the metrics token: Authorization: Bearer <Observability:MetricsToken>.", statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(http);
            }
        }
        else if (!IsDirectLoopback(http))
        {
            return TypedResults.Text("Metrics are readable from this machine only, or with Observability:MetricsToken set.", statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(http);
        }

        return exporter(http);
    }

    /// <summary>
    /// Always the text format 0.0.4, as before ADR 10: given Prometheus' usual Accept header the
    /// exporter would answer OpenMetrics, which adds a <c>_created</c> series beside every counter
    /// and histogram — series the README doesn't list and older Prometheus servers store.
    /// </summary>
    private static Task TextFormat(HttpContext http, RequestDelegate exporter)
    {
        http.Request.Headers.Accept = "text/plain; version=0.0.4";
        return exporter(http);
    }

    /// <summary>
    /// From this machine and not relayed: a reverse proxy on the same host connects from loopback
    /// too, but says whom it relays for, and such a request may come from anywhere. (Once
    /// UseForwardedHeaders has taken the client from X-Forwarded-For, it leaves X-Original-For.)
    /// </summary>
    private static bool IsDirectLoopback(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
        && !http.Request.Headers.ContainsKey("X-Forwarded-For")
        && !http.Request.Headers.ContainsKey("X-Original-For")
        && !http.Request.Headers.ContainsKey("Forwarded")
        && !http.Request.Headers.ContainsKey("X-Real-IP");
}
