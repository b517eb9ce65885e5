using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Billing;

public sealed record BalanceSummary(long BalanceMicros, long OnHoldMicros, long TotalGrantedMicros, long TotalUsedMicros);

/// <summary>Which holds a sweep settles besides those of instances without a lease (ADR 20).</summary>
/// <param name="UnownedBefore">Holds that name no instance (made before leases), taken before this; null: none of them.</param>
/// <param name="OwnInstance">This instance's lease: its holds no request here is running (a hold whose outcome was in doubt); null: none.</param>
public sealed record OrphanedHolds(DateTime? UnownedBefore = null, string? OwnInstance = null);

/// <summary>
/// The credits ledger (ADR 3): grants, balances and the settling of orphaned holds; a request's hold and
/// settlement go through <see cref="LedgerWriter"/>. Every change to a balance is one transaction that
/// appends ledger entries and moves the balance by their sum, so balance = Σ entries always holds.
/// Debits are conditional updates (<c>WHERE balance &gt;= amount</c>): zero rows means "not enough".
/// </summary>
public sealed class CreditsLedger(IDbContextFactory<PortalDbContext> dbFactory, LedgerWriter writer, SettlementJournal journal, TimeProvider time, ILogger<CreditsLedger> logger)
{
    /// <summary>Adds (or, when negative, deducts) credits. A deduction never takes a balance below zero.</summary>
    public Task<long> GrantAsync(string userId, long amountMicros, string reason, string? actorId, CancellationToken cancellationToken = default) =>
        GrantAsync(userId, amountMicros, reason, actorId, alsoRecord: null, cancellationToken);

    /// <param name="alsoRecord">Writes more to the store inside the grant's transaction (the admin audit entry), so both commit or neither does.</param>
    public async Task<long> GrantAsync(string userId, long amountMicros, string reason, string? actorId,
        Func<PortalDbContext, CancellationToken, Task>? alsoRecord, CancellationToken cancellationToken = default)
    {
        if (amountMicros == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amountMicros), "A grant must be non-zero.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var moved = await db.CreditBalances
            .Where(b => b.UserId == userId && b.BalanceMicros + amountMicros >= 0)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.BalanceMicros, b => b.BalanceMicros + amountMicros), cancellationToken);
        if (moved == 0)
        {
            if (amountMicros < 0 || await db.CreditBalances.AnyAsync(b => b.UserId == userId, cancellationToken))
            {
                throw new InsufficientCreditsException("The balance is smaller than the deduction.");
            }

            db.CreditBalances.Add(new CreditBalance { UserId = userId, BalanceMicros = amountMicros });
        }

        db.Ledger.Add(new LedgerEntry
        {
            UserId = userId,
            Kind = LedgerKind.Grant,
            AmountMicros = amountMicros,
            Reason = reason,
            ActorId = actorId,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        if (amountMicros > 0)
        {
            // Credits that bring the balance back up to the user's low-balance threshold arm its alert
            // again (ADR 26): here, in the grant's transaction, so the settlement path never asks.
            await db.AlertSettings
                .Where(a => a.UserId == userId && a.LowBalanceAlertedAt != null
                    && db.CreditBalances.Any(b => b.UserId == userId && b.BalanceMicros >= a.LowBalanceThresholdMicros))
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.LowBalanceAlertedAt, (DateTime?)null), cancellationToken);
            // The same for an organization's alert (the account is then an organization's).
            await db.Organizations
                .Where(o => o.Id == userId && o.LowBalanceAlertedAt != null
                    && db.CreditBalances.Any(b => b.UserId == userId && b.BalanceMicros >= o.LowBalanceThresholdMicros))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.LowBalanceAlertedAt, (DateTime?)null), cancellationToken);
        }

        if (alsoRecord is not null)
        {
            await alsoRecord(db, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return await BalanceOfAsync(db, userId, cancellationToken);
    }

    /// <summary>
    /// Settles holds no request will settle any more (ADR 20): those of instances without a lease (it
    /// lapsed and was ended, or the process restarted), holds that name no instance (made before leases)
    /// taken before <see cref="OrphanedHolds.UnownedBefore"/>, and, when <see cref="OrphanedHolds.OwnInstance"/>
    /// is given, that instance's holds no request of it is running. A hold of a live instance is never
    /// touched otherwise, however old. A request whose progress is in the store (or, from before, in the
    /// settlement journal) is charged that — what it delivered; the others are released for nothing. None
    /// whose settlement waits in this process's journal is touched. Settling is idempotent (the ledger's
    /// unique release per request), so two sweeps can never settle a hold twice.
    /// </summary>
    /// <returns>How many holds were settled.</returns>
    public async Task<int> SettleOrphanedHoldsAsync(OrphanedHolds which, CancellationToken cancellationToken = default)
    {
        // Plain values, never null: EF would compare a null parameter as IS NULL and match every unowned hold.
        var unownedBefore = which.UnownedBefore ?? DateTime.MinValue;
        var sweepUnowned = which.UnownedBefore is not null;
        var own = which.OwnInstance ?? "";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await db.Ledger
            .Where(h => h.Kind == LedgerKind.Hold
                && !db.Ledger.Any(r => r.RequestId == h.RequestId && r.Kind == LedgerKind.Release)
                && ((h.InstanceId != null && !db.InstanceLeases.Any(l => l.Id == h.InstanceId))
                    || (sweepUnowned && h.InstanceId == null && h.CreatedAt <= unownedBefore)
                    || h.InstanceId == own))
            // The hold names its key, and an organization key's member never changes: the member comes from the key,
            // so the recovered request's record and settlement name them as a settled one's would.
            .Select(h => new
            {
                h.UserId, h.ApiKeyId, RequestId = h.RequestId!, h.AmountMicros, h.InstanceId,
                MemberId = db.ApiKeys.Where(k => k.Id == h.ApiKeyId && k.OrganizationId != null).Select(k => k.UserId).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        var orphaned = found
            .Where(h => !journal.IsPending(h.RequestId) && !(h.InstanceId == own && writer.IsRunning(h.RequestId)))
            .ToList();
        var ids = orphaned.Select(h => h.RequestId).ToList();
        Dictionary<string, RequestProgress> progress = ids.Count == 0 ? [] : await db.RequestProgress.Where(p => ids.Contains(p.RequestId)).ToDictionaryAsync(p => p.RequestId, cancellationToken);

        var now = time.GetUtcNow().UtcDateTime;
        var charged = 0;
        var settlements = new List<Task>(orphaned.Count);
        foreach (var hold in orphaned)
        {
            var (charge, record) = progress.TryGetValue(hold.RequestId, out var row) ? (row.ChargeMicros, row.ToRecord())
                : journal.ProgressOf(hold.RequestId) is { } journaled ? (journaled.Settlement.ChargeMicros, journaled.Record)
                : (0L, Interrupted(hold.RequestId, hold.UserId, hold.ApiKeyId, hold.MemberId));
            charged += charge > 0 ? 1 : 0;
            record.Id = 0;
            record.CreatedAt = now;
            // Queued together: the writer commits them in a few batches instead of one at a time.
            record.MemberId ??= hold.MemberId;
            settlements.Add(writer.SettleAsync(new Settlement(hold.UserId, hold.ApiKeyId, hold.RequestId, -hold.AmountMicros, charge, ClearsProgress: row is not null,
                MemberId: hold.MemberId), record));
        }

        await Task.WhenAll(settlements);
        if (orphaned.Count > 0)
        {
            logger.LogWarning("Settled {Count} holds left by interrupted requests, {Charged} of them at the progress they had recorded", orphaned.Count, charged);
        }

        // Progress of requests settled some other way (a journaled settlement's retry) is no evidence any more.
        await db.RequestProgress.Where(p => db.Ledger.Any(r => r.RequestId == p.RequestId && r.Kind == LedgerKind.Release)).ExecuteDeleteAsync(cancellationToken);
        var legacy = journal.OrphanedRequests();
        if (legacy.Count > 0)
        {
            var settled = await db.Ledger.Where(e => e.Kind == LedgerKind.Release && legacy.Contains(e.RequestId!)).Select(e => e.RequestId!).ToListAsync(cancellationToken);
            journal.Forget(settled);
        }

        return orphaned.Count;
    }

    private static UsageRecord Interrupted(string requestId, string userId, string? apiKeyId, string? memberId) => new()
    {
        RequestId = requestId,
        UserId = userId,
        ApiKeyId = apiKeyId,
        MemberId = memberId,
        ModelId = "unknown",
        Status = 500,
        ErrorCode = "interrupted",
        Provenance = Provenance.Partial,
        CreatedAt = default,
    };

    /// <summary>Whether the user's balance is above zero: one indexed read, asked before a large body is read.</summary>
    public async Task<bool> HasCreditAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CreditBalances.AnyAsync(b => b.UserId == userId && b.BalanceMicros > 0, cancellationToken);
    }

    public async Task<BalanceSummary> SummaryAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var sums = await db.Ledger.Where(e => e.UserId == userId)
            .GroupBy(e => e.Kind)
            .Select(g => new { Kind = g.Key, Sum = g.Sum(e => e.AmountMicros) })
            .ToDictionaryAsync(x => x.Kind, x => x.Sum, cancellationToken);
        long Sum(string kind) => sums.GetValueOrDefault(kind);
        return new BalanceSummary(
            await BalanceOfAsync(db, userId, cancellationToken),
            OnHoldMicros: -(Sum(LedgerKind.Hold) + Sum(LedgerKind.Release)),
            TotalGrantedMicros: Sum(LedgerKind.Grant),
            TotalUsedMicros: -Sum(LedgerKind.Charge));
    }

    private static async Task<long> BalanceOfAsync(PortalDbContext db, string userId, CancellationToken cancellationToken) =>
        await db.CreditBalances.Where(b => b.UserId == userId).Select(b => b.BalanceMicros).FirstOrDefaultAsync(cancellationToken);
}

public sealed class InsufficientCreditsException(string message) : Exception(message);
