using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using Portal.Alerts;
using Portal.Data;

namespace Portal.Email;

/// <summary>
/// Sends the outbox (ADR 23): every <see cref="EmailOptions.PollSeconds"/>, and at once when this
/// instance queues a message. Each due row is claimed with one conditional update (state queued, no
/// live lease) that writes this sender's token and a lease, so of several instances sharing
/// PostgreSQL exactly one gets each row; a sender that dies mid-send leaves a lease that runs out,
/// and the row is sent again (at least once, never twice at once). A failure waits
/// <see cref="EmailOptions.RetrySeconds"/>, doubling up to an hour, and after
/// <see cref="EmailOptions.MaxAttempts"/> the row is marked failed; nothing is deleted.
/// </summary>
public sealed class OutboxSender(IDbContextFactory<PortalDbContext> dbFactory, EmailOutbox outbox, IMailTransport transport, WebhookSender webhooks, TimeProvider time,
    IOptions<EmailOptions> options, IHostEnvironment environment, ILogger<OutboxSender> logger) : BackgroundService
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
    private const int BatchSize = 20;

    private readonly SemaphoreSlim _sending = new(1, 1);

    /// <summary>Sends every message due now, one batch after another; returns how many left.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            var sent = 0;
            while (await ClaimAsync(cancellationToken) is { Count: > 0 } batch)
            {
                foreach (var message in batch)
                {
                    sent += await SendOneAsync(message, cancellationToken) ? 1 : 0;
                }
            }

            return sent;
        }
        finally
        {
            _sending.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Sending the outbox failed; trying again in {Poll}", poll);
            }

            await outbox.WaitForQueuedAsync(poll, stoppingToken);
        }
    }

    private async Task<List<OutboxMessage>> ClaimAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var due = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.State == OutboxState.Queued && m.NextAttemptAt <= now && (m.ClaimedUntil == null || m.ClaimedUntil < now))
            .OrderBy(m => m.Id).Select(m => m.Id).Take(BatchSize).ToListAsync(cancellationToken);
        var claimed = new List<OutboxMessage>();
        foreach (var id in due)
        {
            var token = Guid.NewGuid();
            var until = now + Lease;
            // The WHERE is checked again by whichever update runs second: only one sender's token lands.
            var rows = await db.OutboxMessages
                .Where(m => m.Id == id && m.State == OutboxState.Queued && (m.ClaimedUntil == null || m.ClaimedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedUntil, until).SetProperty(m => m.ClaimToken, token), cancellationToken);
            if (rows == 1 && await db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.ClaimToken == token, cancellationToken) is { } row)
            {
                claimed.Add(row);
            }
        }

        return claimed;
    }

    private async Task<bool> SendOneAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        string? file = null;
        Exception? failure = null;
        try
        {
            if (row.Channel == OutboxChannel.Webhook)
            {
                // A user's webhook event (ADR 26): the same claims and backoff, another way out.
                await webhooks.SendAsync(row, cancellationToken);
            }
            else
            {
                file = await transport.SendAsync(ToMime(row), cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failure = e;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var attempts = row.Attempts + 1;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var mine = db.OutboxMessages.Where(m => m.Id == row.Id && m.ClaimToken == row.ClaimToken);
        if (failure is null)
        {
            await mine.ExecuteUpdateAsync(s => s
                .SetProperty(m => m.State, OutboxState.Sent).SetProperty(m => m.Attempts, attempts).SetProperty(m => m.SentAt, now)
                .SetProperty(m => m.File, file).SetProperty(m => m.Body, "").SetProperty(m => m.LastError, (string?)null)
                .SetProperty(m => m.ClaimedUntil, (DateTime?)null), CancellationToken.None);
            LogSent(row, file);
            return true;
        }

        var settings = options.Value;
        var failed = attempts >= settings.MaxAttempts || failure is PermanentDeliveryException;
        var backoff = TimeSpan.FromSeconds(settings.RetrySeconds) * Math.Pow(2, Math.Min(attempts - 1, 20));
        var next = now + (backoff < MaxBackoff ? backoff : MaxBackoff);
        // The exception's message only: MailKit's name the server and what it answered, never the password.
        var error = $"{failure.GetType().Name}: {failure.Message}";
        await mine.ExecuteUpdateAsync(s => s
            .SetProperty(m => m.State, failed ? OutboxState.Failed : OutboxState.Queued).SetProperty(m => m.Attempts, attempts)
            .SetProperty(m => m.NextAttemptAt, next).SetProperty(m => m.LastError, error[..Math.Min(error.Length, 1000)])
            .SetProperty(m => m.ClaimedUntil, (DateTime?)null), CancellationToken.None);
        logger.LogWarning("Email {Id} ({Kind}) could not be sent, attempt {Attempts}: {Error}; {Next}", row.Id, row.Kind, attempts, error,
            failed ? "giving up (shown as failed on the Outbox page)" : $"trying again after {next:O}");
        return false;
    }

    private void LogSent(OutboxMessage row, string? file)
    {
        if (environment.IsDevelopment())
        {
            // Development only: the links, so a fresh checkout can follow them without a mail server.
            // Never in production logs, where they would be one-time secrets of real accounts.
            var links = row.Body.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith("http", StringComparison.Ordinal));
            logger.LogInformation("Email {Id} ({Kind}) sent{File}. Links: {Links}", row.Id, row.Kind, file is null ? "" : $" to outbox/{file}", string.Join(" ", links));
        }
        else
        {
            logger.LogInformation("Email {Id} ({Kind}) sent", row.Id, row.Kind);
        }
    }

    private MimeMessage ToMime(OutboxMessage row)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        message.To.Add(MailboxAddress.Parse(row.To));
        message.Subject = row.Subject;
        message.Date = row.CreatedAt;
        // Stable per row: a message sent again after a lost lease keeps its id, so mail programs can tell.
        message.MessageId = $"portal-{row.Id}-{row.CreatedAt.Ticks}@{MailboxAddress.Parse(options.Value.From).Domain}";
        message.Body = new TextPart("plain") { Text = row.Body };
        return message;
    }
}
