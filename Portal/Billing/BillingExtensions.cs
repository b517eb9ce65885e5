namespace Portal.Billing;

public static class BillingExtensions
{
    /// <summary>Credits: grants and balances, holds and settlements committed in groups, and the release of stale holds.</summary>
    public static IHostApplicationBuilder AddBilling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LedgerWriter>();
        // Releases the holds of requests that died with their process: at start-up, and periodically on PostgreSQL.
        builder.Services.AddSingleton<StaleHoldRecovery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StaleHoldRecovery>());
        builder.Services.AddSingleton<CreditsLedger>();
        builder.Services.AddSingleton<CreditHolds>();
        return builder;
    }
}
