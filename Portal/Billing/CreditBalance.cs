using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Account;

namespace Portal.Billing;

/// <summary>The running sum of a user's ledger, kept beside it so a debit is one conditional UPDATE.</summary>
public sealed class CreditBalance
{
    public required string UserId { get; set; }
    public long BalanceMicros { get; set; }
}

internal sealed class CreditBalanceConfiguration : IEntityTypeConfiguration<CreditBalance>
{
    public void Configure(EntityTypeBuilder<CreditBalance> builder)
    {
        builder.ToTable("CreditBalances");
        builder.HasKey(b => b.UserId);
        builder.HasOne<PortalUser>().WithOne().HasForeignKey<CreditBalance>(b => b.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
