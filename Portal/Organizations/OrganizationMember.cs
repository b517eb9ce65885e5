using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Account;
using Portal.ApiKeys;

namespace Portal.Organizations;

/// <summary>A user's membership of an organization, with their role in it.</summary>
public sealed class OrganizationMember
{
    public required string OrganizationId { get; set; }
    public required string UserId { get; set; }
    public OrganizationRole Role { get; set; }
    public DateTime JoinedAt { get; set; }

    /// <summary>How often the member's budget starts again; <see cref="BudgetPeriod.None"/>: no budget. Shared by all the member's keys of the organization.</summary>
    public BudgetPeriod BudgetPeriod { get; set; }
    /// <summary>Most the member's organization keys may spend together per period, micro-dollars; null = no budget.</summary>
    public long? BudgetMicros { get; set; }
    /// <summary>The IANA time zone the budget's periods start in; null: UTC.</summary>
    public string? BudgetTimeZone { get; set; }
    /// <summary>The start (Unix seconds, UTC) of the period <see cref="BudgetSpentMicros"/> counts; 0 before any.</summary>
    public long BudgetPeriodStart { get; set; }
    /// <summary>Spent (holds included) by the member's keys in the period starting at <see cref="BudgetPeriodStart"/>.</summary>
    public long BudgetSpentMicros { get; set; }

    public KeyBudget? Budget => KeyBudget.Of(BudgetPeriod, BudgetMicros, BudgetTimeZone);
}

internal sealed class OrganizationMemberConfiguration : IEntityTypeConfiguration<OrganizationMember>
{
    public void Configure(EntityTypeBuilder<OrganizationMember> builder)
    {
        builder.ToTable("OrganizationMembers");
        builder.HasKey(m => new { m.OrganizationId, m.UserId });
        builder.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(m => m.UserId);
        builder.Ignore(m => m.Budget);
        builder.Property(m => m.BudgetTimeZone).HasMaxLength(KeyBudget.MaxTimeZoneLength);
        builder.HasOne<Organization>().WithMany().HasForeignKey(m => m.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
