namespace Portal.Billing;

public static class BillingExtensions
{
    /// <summary>Credits: grants and balances, holds and settlements committed in groups, and the release of stale holds.</summary>
    public static IHostApplicationBuilder AddBilling(this IHostApplicationBuilder builder)
    {
        // Settlements the store failed, kept on disk and written again until they commit (ADR 18).
        builder.Services.AddSingleton<SettlementJournal>();
        builder.Services.AddSingleton<LedgerWriter>();
        builder.Services.AddSingleton<SettlementRetry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SettlementRetry>());
        // Settles the holds of requests that died with their process: at start-up (Program), then periodically.
        builder.Services.AddSingleton<StaleHoldRecovery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StaleHoldRecovery>());
        builder.Services.AddSingleton<CreditsLedger>();
        builder.Services.AddSingleton<CreditHolds>();
        return builder;
    }
}
