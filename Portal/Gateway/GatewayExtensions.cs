using Microsoft.Extensions.Options;
using Portal.Gateway.Simulation;

namespace Portal.Gateway;

public static class GatewayExtensions
{
    /// <summary>The relay: the simulated and HTTP upstreams, the completion path, its graceful drain and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SimulationOptions>().BindConfiguration(SimulationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SimulatedUpstream>();
        // One pooled client for every provider: connections are reused, DNS refreshed every few minutes.
        builder.Services.AddHttpClient<HttpUpstream>()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The factory's handlers log every call at Information (four lines per request, the
            // biggest cost on the hot path); HttpUpstream logs the failures that matter itself.
            .RemoveAllLoggers();
        builder.Services.AddSingleton<ChatGateway>();
        // The Responses API's stored responses, per account and bounded (ADR 32).
        builder.Services.AddOptions<Responses.ResponsesOptions>().BindConfiguration(Responses.ResponsesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Responses.ResponseStore>();
        builder.Services.AddSingleton<BodyBudget>();                  // large bodies held at once (ADR 15)
        builder.Services.AddSingleton<ChatBodyReader>();
        // Refusals recorded in bounded volume, and the per-account throttle of accounts refused too often.
        builder.Services.AddSingleton<RefusalLog>();
        builder.Services.AddGatewayOpenApi();                         // the OpenAPI document at /api/v1/openapi.json
        builder.Services.AddSingleton<CompletionDrain>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompletionDrain>());
        // The host must wait longer than the grace period, or it stops before streams are settled.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
        {
            var needed = TimeSpan.FromSeconds(gateway.Value.ShutdownGraceSeconds + 10);
            host.ShutdownTimeout = host.ShutdownTimeout > needed ? host.ShutdownTimeout : needed;
        });
        return builder;
    }
}
