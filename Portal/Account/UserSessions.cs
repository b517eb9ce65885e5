using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Account;

/// <summary>
/// Server-side sign-ins for Identity's cookie (ADR 27). Signing in starts a <see cref="UserSession"/> and
/// writes its id into the cookie's properties (which a refresh or a security-stamp renewal keeps) and,
/// for the Blazor circuit, into a claim; every request's cookie is checked against the row, so ending a
/// session — signing out, or revoking it from another browser — stops its cookie at the next request.
/// </summary>
public sealed class UserSessions(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const string ClaimType = "portal:sid";
    private const string Item = "portal.sid";
    /// <summary>Last-seen times are written at most this often: a page view is not a store write.</summary>
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(5);

    /// <summary>The session of this principal, null for a cookie from before sessions existed.</summary>
    public static string? IdOf(ClaimsPrincipal principal) => principal.FindFirstValue(ClaimType);

    /// <summary>Cookie event: a sign-in (not a refresh of one) starts a session.</summary>
    public async Task OnSigningInAsync(CookieSigningInContext context)
    {
        if (!context.Properties.Items.TryGetValue(Item, out var id) || id is null)
        {
            var userId = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
            if (userId is null)
            {
                return;
            }

            id = await StartAsync(userId, context.HttpContext, MethodOf(context.Principal!));
            context.Properties.Items[Item] = id;
        }

        AddClaim(context.Principal, id);
    }

    /// <summary>Cookie event, after Identity's security stamp check: an ended session's cookie is refused.</summary>
    public async Task OnValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal is null || !context.Properties.Items.TryGetValue(Item, out var id) || id is null)
        {
            return; // signed in before sessions were kept: the security stamp still governs it
        }

        bool active;
        try
        {
            active = await IsActiveAsync(id, context.HttpContext.RequestAborted);
        }
        catch (Exception e) when (StoreOutage.IsOutage(e))
        {
            // The store is unavailable: let the request on to the page (or error page), which says so
            // with a 503 and needs the same store for anything it would show or change.
            AddClaim(context.Principal, id);
            return;
        }

        if (!active)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
            return;
        }

        // A renewed principal (the stamp check makes a new one) lacks the claim: give it back.
        AddClaim(context.Principal, id);
    }

    /// <summary>Cookie event: signing out ends this browser's session.</summary>
    public async Task OnSigningOutAsync(CookieSigningOutContext context)
    {
        if (IdOf(context.HttpContext.User) is { } id)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var now = Now;
            await db.UserSessions.Where(s => s.Id == id && s.EndedAt == null).ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now));
        }
    }

    /// <summary>Whether the session still counts, noting that it was seen.</summary>
    public async Task<bool> IsActiveAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var session = await db.UserSessions.AsNoTracking().Where(s => s.Id == id).Select(s => new { s.EndedAt, s.LastSeenAt }).FirstOrDefaultAsync(cancellationToken);
        if (session is null || session.EndedAt is not null)
        {
            return false;
        }

        var now = Now;
        if (now - session.LastSeenAt > TouchInterval)
        {
            await db.UserSessions.Where(s => s.Id == id).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAt, now), cancellationToken);
        }

        return true;
    }

    /// <summary>The account's sessions that have not ended and were seen within the cookie's lifetime, latest first.</summary>
    public async Task<IReadOnlyList<UserSession>> ActiveAsync(string userId, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = Now - lifetime;
        return await db.UserSessions.AsNoTracking()
            .Where(s => s.UserId == userId && s.EndedAt == null && s.LastSeenAt > since)
            .OrderByDescending(s => s.LastSeenAt).Take(50).ToListAsync(cancellationToken);
    }

    /// <summary>Ends one of the account's sessions; false when it has no such session open.</summary>
    public async Task<bool> EndAsync(string userId, string id)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = Now;
        return await db.UserSessions.Where(s => s.Id == id && s.UserId == userId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now)) == 1;
    }

    /// <summary>Ends every session of the account but <paramref name="keep"/>; returns how many.</summary>
    public async Task<int> EndOthersAsync(string userId, string? keep)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = Now;
        return await db.UserSessions.Where(s => s.UserId == userId && s.Id != keep && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now));
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private async Task<string> StartAsync(string userId, HttpContext http, string method)
    {
        var id = Base64Url(RandomNumberGenerator.GetBytes(16));
        await using var db = await dbFactory.CreateDbContextAsync();
        var now = Now;
        // The account's sessions that can no longer be used or listed go as a new one starts, so the
        // table holds what is live: ended ones, and ones unseen for longer than a cookie can live
        // (a live cookie's session was seen within TouchInterval of the cookie being issued or renewed).
        var unusable = now - AccountExtensions.CookieLifetime - TouchInterval;
        await db.UserSessions.Where(s => s.UserId == userId && (s.EndedAt != null || s.LastSeenAt < unusable)).ExecuteDeleteAsync();
        db.UserSessions.Add(new UserSession
        {
            Id = id,
            UserId = userId,
            CreatedAt = now,
            LastSeenAt = now,
            Device = DeviceDescription.Of(http.Request.Headers.UserAgent.ToString()),
            Network = NetworkOf(http.Connection.RemoteIpAddress),
            Method = method,
        });
        await db.SaveChangesAsync();
        return id;
    }

    private static void AddClaim(ClaimsPrincipal? principal, string id)
    {
        if (principal?.Identity is ClaimsIdentity identity && identity.FindFirst(ClaimType) is null)
        {
            identity.AddClaim(new Claim(ClaimType, id));
        }
    }

    // Identity marks a password sign-in "pwd" and one with a second factor "mfa"; PasskeySignIn names itself.
    private static string MethodOf(ClaimsPrincipal principal) =>
        (principal.FindFirstValue("amr") ?? principal.FindFirstValue(ClaimTypes.AuthenticationMethod)) switch
        {
            "pwd" => "password",
            "mfa" => "password and second factor",
            "passkey" => "passkey",
            _ => "sign-up",
        };

    /// <summary>The network, not the address: an IPv4 /24 or an IPv6 /48.</summary>
    public static string NetworkOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return $"{bytes[0]}.{bytes[1]}.{bytes[2]}.x";
        }

        Array.Clear(bytes, 6, 10);
        return new IPAddress(bytes) + "/48";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
