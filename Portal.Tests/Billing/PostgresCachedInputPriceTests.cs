using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>The cached-input charges on a real PostgreSQL: the settlement's usage record goes through Npgsql's batch.</summary>
public sealed class PostgresCachedInputPriceTests : CachedInputPriceTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task CachedTokensAreChargedAtTheCachedPriceAndTheRecordSaysSo() => base.CachedTokensAreChargedAtTheCachedPriceAndTheRecordSaysSo();

    [PostgresFact]
    public override Task AStreamIsChargedAtTheCachedPriceToo() => base.AStreamIsChargedAtTheCachedPriceToo();

    [PostgresFact]
    public override Task AModelWithoutACachedPriceChargesCachedTokensAsInputAsBefore() => base.AModelWithoutACachedPriceChargesCachedTokensAsInputAsBefore();

    [PostgresFact]
    public override Task CachedTokensAnUpstreamReportsBeyondThePromptAreCountedAsThePromptOnly() => base.CachedTokensAnUpstreamReportsBeyondThePromptAreCountedAsThePromptOnly();
}
