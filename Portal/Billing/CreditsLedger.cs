using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Billing;

public sealed record BalanceSummary(long BalanceMicros, long OnHoldMicros, long TotalGrantedMicros, long TotalUsedMicros);

/// <summary>
/// The credits ledger (ADR 3): grants, balances and the release of stale holds; a request's hold and
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
        if (alsoRecord is not null)
        {
            await alsoRecord(db, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return await BalanceOfAsync(db, userId, cancellationToken);
    }

    /// <summary>
    /// Settles holds no request will settle any more: left by a process that died mid-request. A
    /// request whose progress the settlement journal recorded is charged that (what it delivered);
    /// the others are released for nothing. Only holds older than <paramref name="olderThan"/> are
    /// touched, so live requests keep theirs, and none whose settlement waits in the journal.
    /// </summary>
    public async Task<int> ReleaseStaleHoldsAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - olderThan;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stale = (await db.Ledger
            .Where(h => h.Kind == LedgerKind.Hold && h.CreatedAt <= cutoff
                && !db.Ledger.Any(r => r.RequestId == h.RequestId && r.Kind == LedgerKind.Release))
            .Select(h => new { h.UserId, h.ApiKeyId, h.RequestId, h.AmountMicros })
            .ToListAsync(cancellationToken))
            .Where(h => !journal.IsPending(h.RequestId!))
            .ToList();
        var charged = 0;
        foreach (var hold in stale)
        {
            var now = time.GetUtcNow().UtcDateTime;
            if (journal.ProgressOf(hold.RequestId!) is { } progress)
            {
                // The stream delivered this much before its process died (ADR 18).
                progress.Record.CreatedAt = now;
                await writer.SettleAsync(new Settlement(hold.UserId, hold.ApiKeyId, hold.RequestId!, -hold.AmountMicros, progress.Settlement.ChargeMicros), progress.Record);
                charged++;
                continue;
            }

            var record = new UsageRecord
            {
                RequestId = hold.RequestId!,
                UserId = hold.UserId,
                ApiKeyId = hold.ApiKeyId,
                ModelId = "unknown",
                Status = 500,
                ErrorCode = "interrupted",
                Provenance = Provenance.Partial,
                CreatedAt = now,
            };
            await writer.SettleAsync(new Settlement(hold.UserId, hold.ApiKeyId, hold.RequestId!, -hold.AmountMicros, 0), record);
        }

        if (stale.Count > 0)
        {
            logger.LogWarning("Settled {Count} holds left by interrupted requests, {Charged} of them at the progress they had recorded", stale.Count, charged);
        }

        foreach (var hold in stale)
        {
            journal.Finished(hold.RequestId!);
        }

        // Progress of requests now settled, by this sweep or before it, is no evidence any more.
        var orphaned = journal.OrphanedRequests();
        if (orphaned.Count > 0)
        {
            var settled = await db.Ledger.Where(e => e.Kind == LedgerKind.Release && orphaned.Contains(e.RequestId!)).Select(e => e.RequestId!).ToListAsync(cancellationToken);
            journal.Forget(settled);
        }

        return stale.Count;
    }

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
