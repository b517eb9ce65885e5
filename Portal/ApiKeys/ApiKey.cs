using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Account;

namespace Portal.ApiKeys;

/// <summary>
/// An API key of a user, or of an organization (<see cref="OrganizationId"/>). Only its SHA-256 hash is
/// kept; the plaintext is shown once at creation.
/// </summary>
public sealed class ApiKey
{
    public required string Id { get; set; }
    /// <summary>The user who owns the key; on an organization's key, the member who created it.</summary>
    public required string UserId { get; set; }
    /// <summary>The organization whose credit the key spends; null for a personal key (ADR 34).</summary>
    public string? OrganizationId { get; set; }

    /// <summary>The account that pays for the key's requests: its organization, or its user.</summary>
    public string AccountId => OrganizationId ?? UserId;
    public required string Name { get; set; }
    /// <summary>SHA-256 of the full key, lowercase hex.</summary>
    public required string Hash { get; set; }
    /// <summary>The first characters after <c>sk-portal-</c> and the last four, for display only.</summary>
    public required string Prefix { get; set; }
    public required string Last4 { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    /// <summary>Set while the owner has paused the key: refused (401 <c>api_key_paused</c>) until resumed.</summary>
    public DateTime? PausedAt { get; set; }
    /// <summary>Most this key may spend in total, micro-dollars; null = no cap beyond the balance.</summary>
    public long? SpendCapMicros { get; set; }
    public long SpentMicros { get; set; }
    /// <summary>How often the budget starts again; <see cref="BudgetPeriod.None"/>: no budget (ADR 29).</summary>
    public BudgetPeriod BudgetPeriod { get; set; }
    /// <summary>Most this key may spend per period, micro-dollars; null = no budget.</summary>
    public long? BudgetMicros { get; set; }
    /// <summary>The start (Unix seconds, UTC) of the period <see cref="BudgetSpentMicros"/> counts; 0 before any.</summary>
    public long BudgetPeriodStart { get; set; }
    /// <summary>Spent (holds included) in the period starting at <see cref="BudgetPeriodStart"/>.</summary>
    public long BudgetSpentMicros { get; set; }

    /// <summary>The IANA time zone the budget's periods start in; null: UTC.</summary>
    public string? BudgetTimeZone { get; set; }

    public KeyBudget? Budget => KeyBudget.Of(BudgetPeriod, BudgetMicros, BudgetTimeZone);
    /// <summary>Model ids this key may call, comma-separated; empty = all.</summary>
    public string AllowedModels { get; set; } = "";
    /// <summary>Requests per minute; null = the configured default.</summary>
    public int? RateLimitPerMinute { get; set; }
    /// <summary>Tokens per minute on each model; null = each model's default (ADR 33).</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>What a user may see of the key: <c>sk-portal-AbCd…wxyz</c>.</summary>
    public string Masked() => $"{Prefix}…{Last4}";

    public ApiKeyStatus StatusAt(DateTime utcNow) =>
        RevokedAt is not null ? ApiKeyStatus.Revoked
        : ExpiresAt <= utcNow ? ApiKeyStatus.Expired
        : PausedAt is not null ? ApiKeyStatus.Paused
        : ApiKeyStatus.Active;

    public IReadOnlyList<string> AllowedModelIds() =>
        AllowedModels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public enum ApiKeyStatus
{
    Active,
    Expired,
    Revoked,
    Paused,
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("ApiKeys");
        builder.Property(k => k.Id).HasMaxLength(36);
        builder.Property(k => k.Name).HasMaxLength(100);
        builder.Property(k => k.Hash).HasMaxLength(64);
        builder.Property(k => k.Prefix).HasMaxLength(32);
        builder.Property(k => k.Last4).HasMaxLength(4);
        builder.Property(k => k.AllowedModels).HasMaxLength(2048);
        builder.Ignore(k => k.Budget);
        builder.Property(k => k.BudgetTimeZone).HasMaxLength(KeyBudget.MaxTimeZoneLength);
        builder.Ignore(k => k.AccountId);
        builder.Property(k => k.OrganizationId).HasMaxLength(36);
        builder.HasIndex(k => k.Hash).IsUnique();
        builder.HasIndex(k => k.UserId);
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(k => k.OrganizationId);
        builder.HasOne<Organizations.Organization>().WithMany().HasForeignKey(k => k.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}
