using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Billing;

/// <summary>The running sum of an account's ledger, kept beside it so a debit is one conditional UPDATE.</summary>
public sealed class CreditBalance
{
    /// <summary>The account: a user's id, or an organization's (ADR 34).</summary>
    public required string UserId { get; set; }
    public long BalanceMicros { get; set; }
}

internal sealed class CreditBalanceConfiguration : IEntityTypeConfiguration<CreditBalance>
{
    public void Configure(EntityTypeBuilder<CreditBalance> builder)
    {
        builder.ToTable("CreditBalances");
        builder.HasKey(b => b.UserId);
        // No foreign key to users: the account may be an organization (ADR 34).
    }
}
