using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Email;

namespace Portal.Alerts;

/// <summary>
/// A user's webhook (ADR 26): its URL and signing secret, and the events queued for it. Events go
/// through the email outbox's table as rows of the webhook channel, so they get its claims, lease and
/// backoff; <see cref="WebhookSender"/> posts them. The secret is kept protected with Data Protection
/// (like upstream keys), since it must be read back to sign, and shown to the user once.
/// </summary>
public sealed class Webhooks(IDbContextFactory<PortalDbContext> dbFactory, IDataProtectionProvider protection, EmailOutbox outbox, TimeProvider time)
{
    public const string ProtectorPurpose = "Portal.WebhookSecrets";
    public const string LowBalanceEvent = "balance.low";
    public const string TestEvent = "test";
    /// <summary>The outbox kinds of webhook rows: events, and test events (whose cooldown is counted from the outbox).</summary>
    public const string EventKind = "webhook";
    public const string TestKind = "webhook-test";
    public static readonly TimeSpan TestCooldown = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<string?> UrlOfAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AlertSettings.Where(a => a.UserId == userId).Select(a => a.WebhookUrl).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Sets the URL (checked by <see cref="WebhookAddress"/>) with a new secret, which is returned: the only time it is shown.</summary>
    public async Task<string> SetAsync(string userId, Uri url, CancellationToken cancellationToken = default)
    {
        var secret = "whsec_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.AlertSettings.FirstOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        if (row is null)
        {
            row = new AlertSettings { UserId = userId };
            db.AlertSettings.Add(row);
        }

        row.WebhookUrl = url.AbsoluteUri;
        row.ProtectedWebhookSecret = protection.CreateProtector(ProtectorPurpose).Protect(secret);
        await db.SaveChangesAsync(cancellationToken);
        return secret;
    }

    public async Task RemoveAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.AlertSettings.Where(a => a.UserId == userId).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.WebhookUrl, (string?)null).SetProperty(a => a.ProtectedWebhookSecret, (string?)null), cancellationToken);
    }

    /// <summary>
    /// Queues a test event, at most one per <see cref="TestCooldown"/> per account: the button must not
    /// turn Portal into a way to flood someone else's URL.
    /// </summary>
    public async Task<WebhookTest> QueueTestAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (await UrlOfAsync(userId, cancellationToken) is not { } url)
        {
            return WebhookTest.NoWebhook;
        }

        if (await outbox.LastQueuedAsync(userId, TestKind, cancellationToken) is { } last && time.GetUtcNow().UtcDateTime - last < TestCooldown)
        {
            return WebhookTest.TooSoon;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        Add(db, userId, url, TestEvent, new { message = "A test event from Portal's profile page." }, TestKind);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Wake();
        return WebhookTest.Queued;
    }

    /// <summary>Adds an event for <paramref name="url"/> to <paramref name="db"/> without saving, for the caller's transaction.</summary>
    public void Add(PortalDbContext db, string userId, string url, string type, object data, string kind = EventKind)
    {
        var body = JsonSerializer.Serialize(new WebhookEvent("evt_" + Guid.NewGuid().ToString("N"), type, time.GetUtcNow().ToUnixTimeSeconds(), data), Json);
        outbox.Add(db, kind, userId, url, type, body, OutboxChannel.Webhook);
    }

    /// <summary>The secret to sign with, from its protected form.</summary>
    internal string Unprotect(string protectedSecret) => protection.CreateProtector(ProtectorPurpose).Unprotect(protectedSecret);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public enum WebhookTest
    {
        Queued,
        NoWebhook,
        TooSoon,
    }

    private sealed record WebhookEvent(string Id, string Type, long Created, object Data);
}
