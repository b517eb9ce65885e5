using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

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
    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>().BindConfiguration(ObservabilityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<PrometheusExporter>();
        return builder;
    }

    /// <summary><c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    public static IEndpointRouteBuilder MapObservability(this IEndpointRouteBuilder endpoints)
    {
        // Listen from the start, so no measurement before the first scrape is lost, and show every
        // instrument (the holds gauge too) even before the first request.
        endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        endpoints.ServiceProvider.GetRequiredService<GatewayMetrics>();
        endpoints.MapHealth();
        endpoints.MapGet("/metrics", Metrics);
        return endpoints;
    }

    private static IResult Metrics(HttpContext http, PrometheusExporter exporter, IOptions<ObservabilityOptions> options)
    {
        if (options.Value.MetricsToken is { Length: > 0 } token)
        {
            var header = http.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return TypedResults.Text("Send the metrics token: Authorization: Bearer <Observability:MetricsToken>.", statusCode: StatusCodes.Status401Unauthorized);
            }
        }
        else if (!IsDirectLoopback(http))
        {
            return TypedResults.Text("Metrics are readable from this machine only, or with Observability:MetricsToken set.", statusCode: StatusCodes.Status403Forbidden);
        }

        return TypedResults.Text(exporter.Scrape(), PrometheusExporter.ContentType);
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
