using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.Catalog;
using Portal.Data;
using Portal.Email;

namespace Portal.Alerts;

/// <summary>
/// Mails the admins when an upstream keeps failing (ADR 26). Each instance counts an upstream's failed
/// attempts in a row in memory (a success starts again from zero); at
/// <see cref="AlertOptions.UpstreamFailuresInARow"/> it hands the upstream to a background loop, which
/// claims the alert in the store (<see cref="UpstreamAlert"/>, one conditional update) so that of
/// instances seeing the same outage one mails, at most once per <see cref="AlertOptions.UpstreamAlertMinutes"/>.
/// The request that failed only increments a counter and, rarely, writes to a channel: it never waits for the store.
/// </summary>
public sealed class UpstreamFailureAlerts(IDbContextFactory<PortalDbContext> dbFactory, EmailOutbox outbox, TimeProvider time,
    IOptions<AlertOptions> options, ILogger<UpstreamFailureAlerts> logger) : BackgroundService
{
    public const string Kind = "upstream-failing";

    private readonly ConcurrentDictionary<int, Streak> _streaks = new();
    private readonly Channel<Failing> _failing = Channel.CreateBounded<Failing>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>An attempt at <paramref name="upstream"/> failed for the upstream's own reasons (not a refusal of the request).</summary>
    public void Failed(UpstreamInfo upstream, string modelId, string code)
    {
        var inARow = options.Value.UpstreamFailuresInARow;
        if (inARow == 0)
        {
            return;
        }

        var streak = _streaks.GetOrAdd(upstream.Id, _ => new Streak());
        var count = Interlocked.Increment(ref streak.Count);
        if (count < inARow)
        {
            return;
        }

        // This instance hands an upstream over at most once per window; the store decides across instances.
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref streak.HandedOverAt);
        if (now - last >= Window.Ticks && Interlocked.CompareExchange(ref streak.HandedOverAt, now, last) == last)
        {
            _failing.Writer.TryWrite(new Failing(upstream.Id, modelId, Host(upstream.BaseUrl), upstream.UpstreamModel, count, code));
        }
    }

    /// <summary>An attempt at the upstream got an answer: its streak ends.</summary>
    public void Succeeded(UpstreamInfo upstream)
    {
        if (_streaks.TryGetValue(upstream.Id, out var streak))
        {
            Interlocked.Exchange(ref streak.Count, 0);
        }
    }

    /// <summary>The upstream's failed attempts since its last answer, as this instance counted them.</summary>
    internal int InARow(int upstreamId) => _streaks.TryGetValue(upstreamId, out var streak) ? Volatile.Read(ref streak.Count) : 0;

    private TimeSpan Window => TimeSpan.FromMinutes(options.Value.UpstreamAlertMinutes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var failing in _failing.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await AlertAsync(failing, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not queue the alert about upstream {UpstreamId}", failing.UpstreamId);
            }
        }
    }

    /// <summary>Claims the upstream's alert for this window and, if this instance won it, queues one email per admin.</summary>
    internal async Task<bool> AlertAsync(Failing failing, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var before = now - Window;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var claimed = await db.UpstreamAlerts.Where(a => a.UpstreamId == failing.UpstreamId && a.LastAlertAt <= before)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastAlertAt, now), cancellationToken) == 1;
        if (!claimed)
        {
            if (await db.UpstreamAlerts.AnyAsync(a => a.UpstreamId == failing.UpstreamId, cancellationToken))
            {
                return false; // mailed within the window, by this instance or another
            }

            // The first alert for this upstream: the primary key lets one instance's insert in.
            db.UpstreamAlerts.Add(new UpstreamAlert { UpstreamId = failing.UpstreamId, LastAlertAt = now });
        }

        var adminRole = Roles.Admin.ToUpperInvariant();
        var admins = await db.Users
            .Where(u => u.Email != null && db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == adminRole)))
            .Select(u => new { u.Id, Email = u.Email! })
            .ToListAsync(cancellationToken);
        foreach (var admin in admins)
        {
            outbox.Add(db, Kind, admin.Id, admin.Email, $"Upstream {failing.UpstreamId} of {failing.ModelId} keeps failing", Body(failing));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (!claimed)
        {
            return false; // another instance inserted the first alert at the same moment
        }

        await transaction.CommitAsync(cancellationToken);
        outbox.Wake();
        logger.LogWarning("Upstream {UpstreamId} of {ModelId} failed {Count} times in a row; {Admins} admins mailed", failing.UpstreamId, failing.ModelId, failing.Count, admins.Count);
        return true;
    }

    private string Body(Failing failing) => $"""
        Upstream {failing.UpstreamId} of the model {failing.ModelId} ({failing.UpstreamModel} at {failing.Host}) failed {failing.Count} attempts in a row; the last one: {failing.Code}.

        Portal tries the model's other upstreams and answers clients 502 or 504 when none works. Check the upstream's base URL, key and provider status on the admin Models page; the logs name each failure.

        You get at most one such email per upstream every {options.Value.UpstreamAlertMinutes} minutes (Alerts:UpstreamAlertMinutes).
        """;

    // The host only: a base URL could carry credentials in its user-info or query.
    private static string Host(string baseUrl) => Uri.TryCreate(baseUrl, UriKind.Absolute, out var url) ? url.Authority : "an unreadable base URL";

    internal sealed record Failing(int UpstreamId, string ModelId, string Host, string UpstreamModel, int Count, string Code);

    private sealed class Streak
    {
        public int Count;
        public long HandedOverAt = long.MinValue / 2;
    }
}
