using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Email;

public sealed record OutboxSlice(IReadOnlyList<OutboxMessage> Messages, int Total);

/// <summary>
/// Puts mail in the store's outbox (ADR 23): a request only writes a row, and <see cref="OutboxSender"/>
/// sends it, so an SMTP server that is slow or down never holds up a page.
/// </summary>
public sealed class EmailOutbox(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    private readonly SemaphoreSlim _queued = new(0, 1);

    /// <summary>Writes the message to the outbox and wakes this instance's sender.</summary>
    public async Task QueueAsync(string kind, string? userId, string to, string subject, string body, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        Add(db, kind, userId, to, subject, body);
        await db.SaveChangesAsync(cancellationToken);
        Wake();
    }

    /// <summary>
    /// Adds the message to <paramref name="db"/> without saving: for a caller whose transaction must
    /// commit the message with its own change, or neither. Call <see cref="Wake"/> once it has committed.
    /// </summary>
    public void Add(PortalDbContext db, string kind, string? userId, string to, string subject, string body, OutboxChannel channel = OutboxChannel.Email)
    {
        var now = time.GetUtcNow().UtcDateTime;
        db.OutboxMessages.Add(new OutboxMessage
        {
            Kind = kind, Channel = channel, UserId = userId, To = to, Subject = subject, Body = body,
            State = OutboxState.Queued, CreatedAt = now, NextAttemptAt = now,
        });
    }

    /// <summary>When this account was last sent a message of <paramref name="kind"/> (queued counts), if ever.</summary>
    public async Task<DateTime?> LastQueuedAsync(string userId, string kind, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OutboxMessages.AsNoTracking().Where(m => m.UserId == userId && m.Kind == kind)
            .OrderByDescending(m => m.CreatedAt).Select(m => (DateTime?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>One page of the outbox, newest first, for the admin page (bodies left out: they hold one-time links).</summary>
    public async Task<OutboxSlice> PageAsync(int skip, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var total = await db.OutboxMessages.CountAsync(cancellationToken);
        var page = await db.OutboxMessages.AsNoTracking().OrderByDescending(m => m.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200))
            .Select(m => new OutboxMessage
            {
                Id = m.Id, Kind = m.Kind, Channel = m.Channel, UserId = m.UserId, To = m.To, Subject = m.Subject, Body = "", State = m.State, Attempts = m.Attempts,
                LastError = m.LastError, CreatedAt = m.CreatedAt, NextAttemptAt = m.NextAttemptAt, SentAt = m.SentAt, File = m.File,
            })
            .ToListAsync(cancellationToken);
        return new OutboxSlice(page, total);
    }

    /// <summary>Resolves when a message was queued on this instance (or after <paramref name="timeout"/>).</summary>
    internal async Task WaitForQueuedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _queued.WaitAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Tells this instance's sender that a message is waiting.</summary>
    public void Wake()
    {
        try
        {
            _queued.Release();
        }
        catch (SemaphoreFullException)
        {
            // already awake
        }
    }
}
