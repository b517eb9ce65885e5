using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Portal.Account;
using Portal.Alerts;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Catalog;
using Portal.Codes;
using Portal.Billing;
using Portal.Email;

using Portal.Status;

namespace Portal.Data;

/// <summary>
/// The one store. Each provider has its own subclass so that each keeps its own migrations set
/// (EF finds migrations by the context type they were generated for).
/// </summary>
public abstract class PortalDbContext(DbContextOptions options) : IdentityDbContext<PortalUser>(options)
{
    public DbSet<CatalogModel> Models => Set<CatalogModel>();
    public DbSet<ModelUpstream> ModelUpstreams => Set<ModelUpstream>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<CreditBalance> CreditBalances => Set<CreditBalance>();
    public DbSet<LedgerEntry> Ledger => Set<LedgerEntry>();
    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();
    public DbSet<PortalSetting> Settings => Set<PortalSetting>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<InstanceLease> InstanceLeases => Set<InstanceLease>();
    public DbSet<RequestProgress> RequestProgress => Set<RequestProgress>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<AlertSettings> AlertSettings => Set<AlertSettings>();
    public DbSet<UpstreamAlert> UpstreamAlerts => Set<UpstreamAlert>();
    public DbSet<UserSession> UserSessions => Set<UserSession>();
    public DbSet<CodeBatch> CodeBatches => Set<CodeBatch>();
    public DbSet<RedemptionCode> RedemptionCodes => Set<RedemptionCode>();
    public DbSet<Gateway.Responses.StoredResponse> StoredResponses => Set<Gateway.Responses.StoredResponse>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }
}

public sealed class SqlitePortalDbContext(DbContextOptions<SqlitePortalDbContext> options) : PortalDbContext(options);

public sealed class PostgresPortalDbContext(DbContextOptions<PostgresPortalDbContext> options) : PortalDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // State only instances sharing the store need (SQLite serves one instance, which keeps it in memory).
        RateLimits.RateLimitBucket.Configure(builder);
        RateLimits.TokenLimitBucket.Configure(builder);
    }
}
