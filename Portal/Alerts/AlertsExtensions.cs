namespace Portal.Alerts;

public static class AlertsExtensions
{
    /// <summary>Low-balance alerts and the admins' alert about an upstream that keeps failing, both through the email outbox (ADR 26).</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LowBalanceAlerts>();
        builder.Services.AddHostedService<LowBalanceSweep>();
        builder.Services.AddSingleton<Webhooks>();
        builder.Services.AddSingleton<WebhookSender>();
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = WebhookSender.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // The address checked must be the one connected to: no redirects, no proxy, and outside
                // Development a connect callback that refuses inward addresses (ADR 26).
                AllowAutoRedirect = false,
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                ConnectCallback = development ? null : WebhookSender.ConnectPubliclyAsync,
            });
        builder.Services.AddSingleton<UpstreamFailureAlerts>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UpstreamFailureAlerts>());
        return builder;
    }
}
