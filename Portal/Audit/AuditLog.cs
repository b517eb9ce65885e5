using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Audit;

/// <summary>The outcome of walking the chain: all good, or the first entry where it breaks.</summary>
public sealed record AuditVerification(int Checked, long? BrokenAt, string? Problem)
{
    public bool Ok => BrokenAt is null;
}

public sealed record AuditLogPage(IReadOnlyList<AuditEntry> Entries, int Total);

/// <summary>
/// The tamper-evident log of admin actions (ADR 4). An entry is appended inside the
/// transaction of the change it records, so both commit or neither does.
/// </summary>
public sealed class AuditLog(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    /// <summary>What the first entry follows.</summary>
    public static readonly string Genesis = new('0', 64);

    // Any constant key shared by every instance: appenders queue on it until their transaction ends.
    private const string PostgresLock = "SELECT pg_advisory_xact_lock(22663474983530817)";
    private const int BatchSize = 500;
    private static readonly JsonSerializerOptions DetailsJson = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Appends one entry in <paramref name="db"/>'s current transaction and saves it (with anything
    /// else pending in that context). Call it last in the transaction: it holds the log's lock until commit.
    /// </summary>
    public async Task<AuditEntry> AppendAsync(PortalDbContext db, AuditActor actor, string action, string target, object details,
        CancellationToken cancellationToken = default)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("An audit entry must be appended in the transaction of the change it records.");
        }

        if (db.Database.IsNpgsql())
        {
            // Instances sharing PostgreSQL take turns; the unique PrevHash index would refuse a fork anyway.
            await db.Database.ExecuteSqlRawAsync(PostgresLock, cancellationToken);
        }

        // On SQLite, EF's transactions are BEGIN IMMEDIATE: the writer lock is already ours.
        var previous = await db.AuditEntries.OrderByDescending(e => e.Id).Select(e => e.Hash).FirstOrDefaultAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var entry = new AuditEntry
        {
            At = new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc),
            ActorId = actor.UserId,
            Actor = actor.Name,
            Action = action,
            Target = target,
            Details = JsonSerializer.Serialize(details, DetailsJson),
            PrevHash = previous ?? Genesis,
            Hash = "",
        };
        entry.Hash = HashOf(entry);
        db.AuditEntries.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        return entry;
    }

    /// <summary>
    /// Appends an entry like <see cref="AppendAsync"/> unless one of the same action and target was written
    /// within <paramref name="window"/>: for events anyone can cause over and over (a wrong code typed),
    /// which must be on record without letting whoever causes them fill the log. Asked under the log's
    /// lock, so racing instances write one entry per window.
    /// </summary>
    /// <returns>Whether an entry was written.</returns>
    public async Task<bool> AppendUnlessRecentAsync(PortalDbContext db, AuditActor actor, string action, string target, object details, TimeSpan window,
        CancellationToken cancellationToken = default)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("An audit entry must be appended in a transaction.");
        }

        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync(PostgresLock, cancellationToken);
        }

        var since = time.GetUtcNow().UtcDateTime - window;
        if (await db.AuditEntries.AnyAsync(e => e.Target == target && e.Action == action && e.At > since, cancellationToken))
        {
            return false;
        }

        await AppendAsync(db, actor, action, target, details, cancellationToken);
        return true;
    }

    /// <summary>
    /// One page of at most 200 entries, newest first unless <paramref name="oldestFirst"/>, only those
    /// of <paramref name="action"/> when one is given. Ordered by id, the primary key: the order they were written in.
    /// </summary>
    public async Task<AuditLogPage> PageAsync(int skip, int take, string? action = null, bool oldestFirst = false, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrEmpty(action))
        {
            entries = entries.Where(e => e.Action == action);
        }

        var total = await entries.CountAsync(cancellationToken);
        var page = await (oldestFirst ? entries.OrderBy(e => e.Id) : entries.OrderByDescending(e => e.Id))
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200)).ToListAsync(cancellationToken);
        return new AuditLogPage(page, total);
    }

    /// <summary>Recomputes every hash in order and reports the first entry that does not fit.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var expectedPrevious = Genesis;
        var lastId = 0L;
        var count = 0;
        while (true)
        {
            var batch = await db.AuditEntries.AsNoTracking().Where(e => e.Id > lastId).OrderBy(e => e.Id)
                .Take(BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return new AuditVerification(count, null, null);
            }

            foreach (var entry in batch)
            {
                if (entry.PrevHash != expectedPrevious)
                {
                    return new AuditVerification(count, entry.Id,
                        $"Entry {entry.Id} does not follow the entry before it: an entry before it was removed, inserted or rewritten.");
                }

                if (HashOf(entry) != entry.Hash)
                {
                    return new AuditVerification(count, entry.Id, $"Entry {entry.Id} was changed after it was written: its content no longer matches its hash.");
                }

                expectedPrevious = entry.Hash;
                lastId = entry.Id;
                count++;
            }
        }
    }

    /// <summary>
    /// SHA-256 (lowercase hex) over a versioned, length-prefixed encoding of the previous hash and
    /// the entry's fields. Spelled out by hand rather than via a JSON serializer, whose escaping
    /// could change between runtime versions and silently "break" an intact chain.
    /// </summary>
    public static string HashOf(AuditEntry entry)
    {
        var canonical = new StringBuilder("portal-audit-v1\n");
        foreach (var field in new[]
        {
            entry.PrevHash,
            entry.At.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            entry.ActorId, entry.Actor, entry.Action, entry.Target, entry.Details,
        })
        {
            canonical.Append(field is null ? "~" : $"{Encoding.UTF8.GetByteCount(field)}:{field}").Append('\n');
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()))).ToLowerInvariant();
    }
}
