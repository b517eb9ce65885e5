namespace Portal.Alerts;

public static class AlertsExtensions
{
    /// <summary>Low-balance alerts and the admins' alert about an upstream that keeps failing, both through the email outbox (ADR XX).</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LowBalanceAlerts>();
        builder.Services.AddHostedService<LowBalanceSweep>();
        builder.Services.AddSingleton<UpstreamFailureAlerts>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UpstreamFailureAlerts>());
        return builder;
    }
}
