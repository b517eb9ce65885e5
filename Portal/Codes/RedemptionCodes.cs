using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Account;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Data;

namespace Portal.Codes;

/// <summary>
/// Redemption codes (ADR 29: redemption codes and periodic budgets): admins generate batches, whose
/// codes exist in plain text only in the return value of <see cref="GenerateAsync"/>; an account
/// redeems a code once — a conditional update of its row and the ledger grant in one transaction.
/// </summary>
public sealed class RedemptionCodes(IDbContextFactory<PortalDbContext> dbFactory, CreditsLedger ledger, AuditLog audit, TimeProvider time)
{
    public const int MaxCount = 1_000;
    public const int MaxNoteLength = 200;
    public const int MaxExpiryDays = 3_650;
    public const decimal MaxValueUsd = 10_000;

    /// <summary>Checks the form and makes the batch: its row, its hashed codes and the audit entry in one transaction.</summary>
    public async Task<(EditResult Result, GeneratedBatch? Batch)> GenerateAsync(AdminCaller caller, NewCodeBatch form, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new Dictionary<string, string>();
        if (!UsdInput.TryParse(form.Value, out var micros) || micros < 10_000 || Money.ToUsd(micros) > MaxValueUsd)
        {
            errors[nameof(NewCodeBatch.Value)] = $"Enter each code's value in USD, from 0.01 to {MaxValueUsd:#,0}, such as 5 or 2.50.";
        }

        if (!int.TryParse(form.Count.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > MaxCount)
        {
            errors[nameof(NewCodeBatch.Count)] = $"Enter how many codes to make: a whole number from 1 to {MaxCount:#,0}.";
        }

        int? days = null;
        if (!string.IsNullOrWhiteSpace(form.ExpiresInDays))
        {
            if (int.TryParse(form.ExpiresInDays.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d is >= 1 and <= MaxExpiryDays)
            {
                days = d;
            }
            else
            {
                errors[nameof(NewCodeBatch.ExpiresInDays)] = $"Enter the days the codes stay valid, from 1 to {MaxExpiryDays:#,0}, or leave it empty for codes that never expire.";
            }
        }

        var note = form.Note.Trim();
        if (note.Length == 0)
        {
            errors[nameof(NewCodeBatch.Note)] = "Say what the codes are for; only admins see the note.";
        }
        else if (note.Length > MaxNoteLength)
        {
            errors[nameof(NewCodeBatch.Note)] = $"The note is {note.Length} characters long; at most {MaxNoteLength} are kept.";
        }

        if (errors.Count > 0)
        {
            return (EditResult.Invalid(errors), null);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var batch = new CodeBatch
        {
            ValueMicros = micros,
            Count = count,
            CreatedAt = now,
            ExpiresAt = days is { } valid ? now.AddDays(valid) : null,
            Note = note,
            CreatedBy = caller.Actor.Name,
        };
        var codes = new List<string>(count);
        var hashes = new HashSet<string>(count);
        while (codes.Count < count)
        {
            var code = CodeFormat.New();
            if (hashes.Add(CodeFormat.HashOf(CodeFormat.Canonical(code)!)))
            {
                codes.Add(code);
            }
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        db.CodeBatches.Add(batch);
        await db.SaveChangesAsync(cancellationToken);
        db.RedemptionCodes.AddRange(hashes.Select(h => new RedemptionCode { BatchId = batch.Id, Hash = h }));
        await audit.AppendAsync(db, caller.Actor, AuditActions.CodesGenerate, TargetOf(batch.Id),
            new { count, valueUsd = UsdInput.Format(micros), expiresAt = batch.ExpiresAt, note }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (EditResult.Success($"Made {count:#,0} codes worth {Money.Format(micros)} each (batch #{batch.Id}). Download them now: they are not shown again."),
            new GeneratedBatch(batch, codes));
    }

    /// <summary>The batches, newest first, with how many of each were redeemed.</summary>
    public async Task<IReadOnlyList<CodeBatchRow>> ListAsync(AdminCaller caller, int take = 200, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CodeBatches.AsNoTracking().OrderByDescending(b => b.Id).Take(Math.Clamp(take, 1, 1000))
            .Select(b => new CodeBatchRow(b.Id, b.ValueMicros, b.Count,
                db.RedemptionCodes.Count(c => c.BatchId == b.Id && c.RedeemedAt != null),
                b.CreatedAt, b.ExpiresAt, b.Note, b.CreatedBy, b.RevokedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Withdraws a batch: its codes not yet redeemed are refused from now on; those redeemed stay so.</summary>
    public async Task<EditResult> RevokeAsync(AdminCaller caller, int batchId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var revoked = await db.CodeBatches.Where(b => b.Id == batchId && b.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.RevokedAt, now), cancellationToken);
        if (revoked == 0)
        {
            return EditResult.Refused($"Batch #{batchId} does not exist or was already revoked. Nothing was changed.");
        }

        var unredeemed = await db.RedemptionCodes.CountAsync(c => c.BatchId == batchId && c.RedeemedAt == null, cancellationToken);
        await audit.AppendAsync(db, caller.Actor, AuditActions.CodesRevoke, TargetOf(batchId), new { unredeemed }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return EditResult.Success($"Revoked batch #{batchId}: its {unredeemed:#,0} unredeemed codes no longer work.");
    }

    /// <summary>
    /// Redeems <paramref name="typed"/> for the account <paramref name="accountId"/>: at most once, however
    /// many try at the same time — the code's row is claimed by an update that only matches while it is
    /// unredeemed, in the transaction of the ledger grant and the audit entry, so all commit or none.
    /// The caller throttles attempts first.
    /// </summary>
    /// <remarks>
    /// A failed attempt is audited (<c>code.redeem_failed</c>, with the reason and the client address, never
    /// the code or any part of its hash) at most once per account and <see cref="FailureAuditWindow"/>:
    /// enough to see someone guessing, not enough for a guesser to fill the log.
    /// </remarks>
    public async Task<RedeemResult> RedeemAsync(string accountId, string? typed, AuditActor actor, string clientAddress, CancellationToken cancellationToken = default)
    {
        var result = await RedeemOnceAsync(accountId, typed, actor, clientAddress, cancellationToken);
        if (result.Outcome is RedeemOutcome.NotValid or RedeemOutcome.AlreadyRedeemed or RedeemOutcome.Expired or RedeemOutcome.Revoked)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await audit.AppendUnlessRecentAsync(db, actor, AuditActions.CodeRedeemFailed, AccountAudit.TargetOf(accountId),
                    new { reason = ReasonOf(result.Outcome), ip = clientAddress }, FailureAuditWindow, cancellationToken))
            {
                await tx.CommitAsync(cancellationToken);
            }
        }

        return result;
    }

    /// <summary>At most one <c>code.redeem_failed</c> entry per account in this time; later failures in it go unrecorded.</summary>
    public static readonly TimeSpan FailureAuditWindow = TimeSpan.FromMinutes(1);

    private static string ReasonOf(RedeemOutcome outcome) => outcome switch
    {
        RedeemOutcome.NotValid => "not_valid",
        RedeemOutcome.AlreadyRedeemed => "already_redeemed",
        RedeemOutcome.Expired => "expired",
        _ => "revoked",
    };

    private async Task<RedeemResult> RedeemOnceAsync(string accountId, string? typed, AuditActor actor, string clientAddress, CancellationToken cancellationToken)
    {
        if (CodeFormat.Canonical(typed) is not { } canonical)
        {
            return new(RedeemOutcome.NotValid);
        }

        var hash = CodeFormat.HashOf(canonical);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var code = await (from c in db.RedemptionCodes
                          join b in db.CodeBatches on c.BatchId equals b.Id
                          where c.Hash == hash
                          select new { c.Id, c.RedeemedAt, b.ValueMicros, b.ExpiresAt, b.RevokedAt, BatchId = b.Id })
            .AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        if (code is null)
        {
            return new(RedeemOutcome.NotValid);
        }

        if (Refusal(code.RedeemedAt, code.RevokedAt, code.ExpiresAt, now) is { } refused)
        {
            return refused;
        }

        try
        {
            await ledger.GrantAsync(accountId, code.ValueMicros, $"Redemption code, batch #{code.BatchId}", actorId: null, async (tx, ct) =>
            {
                var claimed = await tx.RedemptionCodes
                    .Where(c => c.Id == code.Id && c.RedeemedAt == null
                        && tx.CodeBatches.Any(b => b.Id == c.BatchId && b.RevokedAt == null && (b.ExpiresAt == null || b.ExpiresAt > now)))
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.RedeemedAt, now).SetProperty(c => c.RedeemedBy, accountId), ct);
                if (claimed != 1)
                {
                    // Someone else's redemption (or a revocation) came first: the grant rolls back with this.
                    throw new CodeTakenException();
                }

                await audit.AppendAsync(tx, actor, AuditActions.CodeRedeem, AccountAudit.TargetOf(accountId),
                    new { ip = clientAddress, batch = code.BatchId, amountUsd = UsdInput.Format(code.ValueMicros) }, ct);
            }, cancellationToken);
        }
        catch (CodeTakenException)
        {
            var now2 = await db.RedemptionCodes.Where(c => c.Id == code.Id).Join(db.CodeBatches, c => c.BatchId, b => b.Id,
                (c, b) => new { c.RedeemedAt, b.RevokedAt, b.ExpiresAt }).AsNoTracking().FirstAsync(cancellationToken);
            return Refusal(now2.RedeemedAt, now2.RevokedAt, now2.ExpiresAt, now) ?? new(RedeemOutcome.AlreadyRedeemed);
        }

        return new(RedeemOutcome.Redeemed, code.ValueMicros);
    }

    public static string TargetOf(int batchId) => $"codes:batch:{batchId}";

    private static RedeemResult? Refusal(DateTime? redeemedAt, DateTime? revokedAt, DateTime? expiresAt, DateTime now) =>
        redeemedAt is not null ? new(RedeemOutcome.AlreadyRedeemed)
        : revokedAt is not null ? new(RedeemOutcome.Revoked)
        : expiresAt is { } expiry && expiry <= now ? new(RedeemOutcome.Expired, ExpiredAt: expiry)
        : null;

    private sealed class CodeTakenException : Exception;
}
