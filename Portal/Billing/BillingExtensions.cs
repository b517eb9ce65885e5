namespace Portal.Billing;

public static class BillingExtensions
{
    /// <summary>Credits: grants and balances, holds and settlements committed in groups, and the release of stale holds.</summary>
    public static IHostApplicationBuilder AddBilling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LedgerWriter>();
        builder.Services.AddSingleton<CreditsLedger>();
        builder.Services.AddSingleton<CreditHolds>();
        builder.Services.AddSingleton<StaleHoldRecovery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StaleHoldRecovery>());
        return builder;
    }
}
