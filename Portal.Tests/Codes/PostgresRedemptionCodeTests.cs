using Microsoft.Extensions.DependencyInjection;
using Portal.Codes;
using Portal.Tests.Store;

namespace Portal.Tests.Codes;

/// <summary>The same on PostgreSQL; the race is run by this instance and a second one on the same database.</summary>
public sealed class PostgresRedemptionCodeTests : RedemptionCodeTests
{
    private PortalApplication? _second;

    protected override bool OnPostgres => true;

    protected override IReadOnlyList<RedemptionCodes> OtherInstances() =>
        [App.Services.GetRequiredService<RedemptionCodes>(), _second!.Services.GetRequiredService<RedemptionCodes>()];

    [PostgresFact]
    public override Task TheStoreHoldsOnlyHashesAndTheCsvHoldsExactlyTheGeneratedCodes() => base.TheStoreHoldsOnlyHashesAndTheCsvHoldsExactlyTheGeneratedCodes();

    [PostgresFact]
    public override async Task TwentyParallelRedemptionsOfOneCodeGrantItOnce()
    {
        await using var second = new PortalApplication(Database.StoreSettings());
        _second = second;
        await base.TwentyParallelRedemptionsOfOneCodeGrantItOnce();
    }

    [PostgresFact]
    public override Task ExpiredRevokedUsedAndUnknownCodesEachGetTheirOwnAnswerAndNoCredits() => base.ExpiredRevokedUsedAndUnknownCodesEachGetTheirOwnAnswerAndNoCredits();

    [PostgresFact]
    public override Task FailedAttemptsAreAuditedWithTheirReasonAtMostOncePerAccountAndMinuteAndNeverWithTheCode() =>
        base.FailedAttemptsAreAuditedWithTheirReasonAtMostOncePerAccountAndMinuteAndNeverWithTheCode();
}
