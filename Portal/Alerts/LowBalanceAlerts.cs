using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Data;
using Portal.Email;
using Portal.Organizations;

namespace Portal.Alerts;

/// <summary>A user's low-balance alert as the profile shows it.</summary>
public sealed record LowBalanceSetting(long? ThresholdMicros, DateTime? AlertedAt);

/// <summary>
/// Low-balance alerts (ADR 26): the user's threshold, and the sweep that mails a user whose balance
/// is below it. The sweep runs beside the gateway, never in it: a settlement costs what it cost before.
/// Exactly one email per crossing comes from one conditional update of the user's armed flag
/// (<see cref="AlertSettings.LowBalanceAlertedAt"/> from null to now) committed with the outbox row,
/// so sweeps racing on one instance or on several sharing PostgreSQL send one between them. A grant
/// that brings the balance back to the threshold arms it again (<c>CreditsLedger.GrantAsync</c>).
/// An organization's alert works the same on its own row (<see cref="Organization.LowBalanceThresholdMicros"/>),
/// set by its owners, and mails every owner.
/// </summary>
public sealed class LowBalanceAlerts(IDbContextFactory<PortalDbContext> dbFactory, EmailOutbox outbox, Webhooks webhooks, TimeProvider time,
    IOptions<EmailOptions> email, AuditLog audit, ILogger<LowBalanceAlerts> logger)
{
    public const string Kind = "low-balance";

    public async Task<LowBalanceSetting> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.AlertSettings.AsNoTracking().FirstOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        return new LowBalanceSetting(row?.LowBalanceThresholdMicros, row?.LowBalanceAlertedAt);
    }

    /// <summary>
    /// Sets (or, with null, turns off) the threshold. A balance already below the new threshold counts
    /// as alerted: the user is looking at it, and the alert arms with the next grant that lifts the balance.
    /// </summary>
    public async Task SetThresholdAsync(string userId, long? thresholdMicros, CancellationToken cancellationToken = default)
    {
        if (thresholdMicros is <= 0 or > (long)(AlertOptions.MaxThresholdUsd * Money.MicrosPerUsd))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdMicros), "A threshold is more than zero and at most the largest one allowed.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var balance = await db.CreditBalances.Where(b => b.UserId == userId).Select(b => b.BalanceMicros).FirstOrDefaultAsync(cancellationToken);
        var row = await db.AlertSettings.FirstOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        if (row is null)
        {
            row = new AlertSettings { UserId = userId };
            db.AlertSettings.Add(row);
        }

        row.LowBalanceThresholdMicros = thresholdMicros;
        row.LowBalanceAlertedAt = thresholdMicros is { } t && balance < t ? time.GetUtcNow().UtcDateTime : null;
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>An organization's threshold, for its settings page (which only its owners see).</summary>
    public async Task<LowBalanceSetting> GetOrganizationAsync(string organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Organizations.AsNoTracking().Where(o => o.Id == organizationId)
            .Select(o => new LowBalanceSetting(o.LowBalanceThresholdMicros, o.LowBalanceAlertedAt)).FirstOrDefaultAsync(cancellationToken);
        return row ?? new LowBalanceSetting(null, null);
    }

    /// <summary>
    /// Sets (or, with null, turns off) an organization's threshold: its owners only (billing is theirs,
    /// ADR 34), audited. As for a user, a balance already below the new threshold counts as alerted.
    /// </summary>
    public async Task<MemberChange> SetOrganizationThresholdAsync(AuditActor actor, string organizationId, long? thresholdMicros,
        CancellationToken cancellationToken = default)
    {
        if (thresholdMicros is <= 0 or > (long)(AlertOptions.MaxThresholdUsd * Money.MicrosPerUsd))
        {
            return MemberChange.Refused($"A threshold is more than $0 and at most ${AlertOptions.MaxThresholdUsd:#,0}. Nothing was changed.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var balance = await db.CreditBalances.Where(b => b.UserId == organizationId).Select(b => b.BalanceMicros).FirstOrDefaultAsync(cancellationToken);
        var alertedAt = thresholdMicros is { } t && balance < t ? time.GetUtcNow().UtcDateTime : (DateTime?)null;
        var changed = await db.Organizations
            .Where(o => o.Id == organizationId
                && db.OrganizationMembers.Any(m => m.OrganizationId == organizationId && m.UserId == actor.UserId && m.Role == OrganizationRole.Owner))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.LowBalanceThresholdMicros, thresholdMicros).SetProperty(o => o.LowBalanceAlertedAt, alertedAt), cancellationToken);
        if (changed != 1)
        {
            return MemberChange.NotAllowed;
        }

        await audit.AppendAsync(db, actor, AuditActions.OrganizationLowBalanceAlert, OrganizationService.TargetOf(organizationId),
            new { thresholdUsd = thresholdMicros is { } th ? Money.ToUsd(th) : (decimal?)null }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success(thresholdMicros is { } set
            ? $"The owners are mailed once when the balance falls below {Money.Format(set)}."
            : "The low-balance alert is off.");
    }

    /// <summary>
    /// Mails every armed user whose balance is below their threshold, once: the users with a threshold
    /// are looked at, never the ledger. Returns how many were mailed by this call.
    /// </summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var below = await (
                from a in db.AlertSettings
                join b in db.CreditBalances on a.UserId equals b.UserId
                join u in db.Users on a.UserId equals u.Id
                where a.LowBalanceAlertedAt == null && a.LowBalanceThresholdMicros != null && b.BalanceMicros < a.LowBalanceThresholdMicros
                select new { a.UserId, u.Email, a.WebhookUrl, b.BalanceMicros, Threshold = a.LowBalanceThresholdMicros!.Value })
            .ToListAsync(cancellationToken);
        var mailed = 0;
        foreach (var user in below)
        {
            var now = time.GetUtcNow().UtcDateTime;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // The arbiter: of sweeps racing for this user (here or on another instance), one sees the
            // flag still null; PostgreSQL re-checks the WHERE for the second after the first commits.
            var won = await db.AlertSettings
                .Where(a => a.UserId == user.UserId && a.LowBalanceAlertedAt == null
                    && db.CreditBalances.Any(b => b.UserId == a.UserId && b.BalanceMicros < a.LowBalanceThresholdMicros))
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.LowBalanceAlertedAt, now), cancellationToken);
            if (won == 1)
            {
                if (!string.IsNullOrEmpty(user.Email))
                {
                    outbox.Add(db, Kind, user.UserId, user.Email, $"Your Portal balance is below {Money.Format(user.Threshold)}", Body(user.BalanceMicros, user.Threshold));
                }

                if (user.WebhookUrl is { } url)
                {
                    webhooks.Add(db, user.UserId, url, Webhooks.LowBalanceEvent,
                        new { BalanceUsd = Money.ToUsd(user.BalanceMicros), ThresholdUsd = Money.ToUsd(user.Threshold) });
                }

                await db.SaveChangesAsync(cancellationToken);
                mailed++;
            }

            await transaction.CommitAsync(cancellationToken);
        }

        mailed += await CheckOrganizationsAsync(db, cancellationToken);
        if (mailed > 0)
        {
            outbox.Wake();
            logger.LogInformation("Queued {Count} low-balance alerts", mailed);
        }

        return mailed;
    }

    /// <summary>The organizations' alerts: the same conditional update on the organization's row, one email to each owner.</summary>
    private async Task<int> CheckOrganizationsAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        var below = await (
                from o in db.Organizations
                join b in db.CreditBalances on o.Id equals b.UserId
                where o.LowBalanceAlertedAt == null && o.LowBalanceThresholdMicros != null && b.BalanceMicros < o.LowBalanceThresholdMicros
                select new { o.Id, o.Name, b.BalanceMicros, Threshold = o.LowBalanceThresholdMicros!.Value })
            .ToListAsync(cancellationToken);
        var mailed = 0;
        foreach (var organization in below)
        {
            var now = time.GetUtcNow().UtcDateTime;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var won = await db.Organizations
                .Where(o => o.Id == organization.Id && o.LowBalanceAlertedAt == null
                    && db.CreditBalances.Any(b => b.UserId == o.Id && b.BalanceMicros < o.LowBalanceThresholdMicros))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.LowBalanceAlertedAt, now), cancellationToken);
            if (won == 1)
            {
                var owners = await (
                        from m in db.OrganizationMembers
                        join u in db.Users on m.UserId equals u.Id
                        where m.OrganizationId == organization.Id && m.Role == OrganizationRole.Owner && u.Email != null
                        select new { u.Id, u.Email })
                    .ToListAsync(cancellationToken);
                foreach (var owner in owners)
                {
                    outbox.Add(db, Kind, owner.Id, owner.Email!, $"{organization.Name}'s Portal balance is below {Money.Format(organization.Threshold)}",
                        OrganizationBody(organization.Name, organization.BalanceMicros, organization.Threshold));
                }

                await db.SaveChangesAsync(cancellationToken);
                mailed++;
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return mailed;
    }

    private static string OrganizationBody(string name, long balance, long threshold) => $"""
        The organization "{name}" has a Portal balance of {Money.Format(balance)}, below the {Money.Format(threshold)} its owners asked to be told about.

        Its members' organization keys stop when the balance runs out; an admin of this Portal grants organizations credits.

        Each owner gets this once each time the balance falls below the threshold; it is armed again when credits bring the balance back up to it.
        """;

    private string Body(long balance, long threshold)
    {
        var site = email.Value.PublicUrl?.TrimEnd('/');
        string Where(string path, string name) => string.IsNullOrWhiteSpace(site) ? $"on Portal's {name} page" : $"{site}{path}";
        return $"""
            Your Portal balance is {Money.Format(balance)}, below the {Money.Format(threshold)} you asked to be told about.

            Requests stop when the balance runs out. See your usage and balance {Where("/dashboard", "dashboard")}.
            Change or turn off this alert {Where("/settings/profile", "profile")}.

            You get this once each time the balance falls below the threshold; it is armed again when credits bring the balance back up to it.
            """;
    }
}
