using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Portal.Email;

namespace Portal.Account;

/// <summary>
/// The mail an account gets: the verification link at sign-up, the password-reset link, the link
/// that confirms a new address and the notice to the old one. Links carry Identity's tokens (its
/// data-protection provider: they expire after <see cref="AccountOptions.EmailLinkMinutes"/>, and a
/// reset link stops working once the password changes). All of it goes through the outbox.
/// </summary>
public sealed class AccountEmails(UserManager<PortalUser> users, EmailOutbox outbox, TimeProvider time, IOptions<AccountOptions> accounts,
    IOptions<EmailOptions> email)
{
    public const string ConfirmKind = "confirm-email";
    public const string ResetKind = "reset-password";
    public const string ChangeKind = "change-email";
    public const string ChangedKind = "email-changed";

    public const string ConfirmPath = "/account/confirm-email";
    public const string ResetPath = "/reset-password";
    public const string ChangePath = "/account/confirm-email-change";

    private int LinkMinutes => accounts.Value.EmailLinkMinutes;

    /// <summary>Mails the verification link to <paramref name="user"/>'s address.</summary>
    public async Task SendConfirmationAsync(PortalUser user, HttpContext http)
    {
        var code = Encode(await users.GenerateEmailConfirmationTokenAsync(user));
        var link = Link(http, ConfirmPath, ("userId", user.Id), ("code", code));
        await outbox.QueueAsync(ConfirmKind, user.Id, user.Email!, "Verify your email for Portal",
            $"""
            Welcome to Portal.

            Follow this link to verify your email address. Until you do, you can sign in and look around,
            but not create API keys or spend credits:

            {link}

            The link works for {LinkMinutes} minutes. If you did not create an account, ignore this message.
            """);
    }

    /// <summary>Mails the verification link again, unless one went out less than the cooldown ago: then how long to wait.</summary>
    public async Task<TimeSpan?> ResendConfirmationAsync(PortalUser user, HttpContext http)
    {
        if (await CooldownLeftAsync(user.Id, ConfirmKind) is { } wait)
        {
            return wait;
        }

        await SendConfirmationAsync(user, http);
        return null;
    }

    /// <summary>
    /// Mails a reset link if <paramref name="address"/> belongs to an account (and none went to it within
    /// the cooldown). An unknown address gets the same work without the mail: a token is made for a
    /// stand-in account and the outbox is asked, so neither the answer nor its time tells the two apart.
    /// </summary>
    public async Task SendPasswordResetAsync(string address, HttpContext http)
    {
        var user = await users.FindByEmailAsync(address.Trim());
        var subject = user ?? new PortalUser { Id = Guid.NewGuid().ToString(), SecurityStamp = Guid.NewGuid().ToString("N"), Email = address };
        var code = Encode(await users.GeneratePasswordResetTokenAsync(subject));
        var link = Link(http, ResetPath, ("userId", subject.Id), ("code", code));
        var wait = await CooldownLeftAsync(subject.Id, ResetKind);
        if (user is null || wait is not null)
        {
            return;
        }

        await outbox.QueueAsync(ResetKind, user.Id, user.Email!, "Reset your Portal password",
            $"""
            Someone (we hope you) asked to reset the password of your Portal account.

            Follow this link to choose a new password. It works once, for {LinkMinutes} minutes:

            {link}

            If it wasn't you, ignore this message: your password stays as it is.
            """);
    }

    /// <summary>Mails a link to <paramref name="newAddress"/> that moves the account there once followed.</summary>
    public async Task SendEmailChangeAsync(PortalUser user, string newAddress, HttpContext http)
    {
        var code = Encode(await users.GenerateChangeEmailTokenAsync(user, newAddress));
        var link = Link(http, ChangePath, ("userId", user.Id), ("email", newAddress), ("code", code));
        await outbox.QueueAsync(ChangeKind, user.Id, newAddress, "Confirm your new email for Portal",
            $"""
            The Portal account {user.Email} asked to use this address from now on.

            Follow this link to confirm it. It works for {LinkMinutes} minutes:

            {link}

            If you did not ask for this, ignore this message.
            """);
    }

    /// <summary>Tells the old address that the account moved, so a change its owner did not make is noticed.</summary>
    public Task SendEmailChangedNoticeAsync(string userId, string oldAddress, string newAddress) =>
        outbox.QueueAsync(ChangedKind, userId, oldAddress, "Your Portal email was changed",
            $"""
            The email address of your Portal account was changed from {oldAddress} to {newAddress}.

            If you made this change, there is nothing to do. If you did not, reset your password from
            the sign-in page at once and contact the operator of this Portal.
            """);

    /// <summary>A token from a link, as Identity made it; null when the link's code is not one.</summary>
    public static string? Decode(string? code)
    {
        try
        {
            return string.IsNullOrEmpty(code) ? null : Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Encode(string token) => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));

    private async Task<TimeSpan?> CooldownLeftAsync(string userId, string kind)
    {
        var last = await outbox.LastQueuedAsync(userId, kind);
        var left = last is { } at ? at.AddSeconds(accounts.Value.EmailResendSeconds) - time.GetUtcNow().UtcDateTime : TimeSpan.Zero;
        return left > TimeSpan.Zero ? left : null;
    }

    private string Link(HttpContext http, string path, params (string Name, string Value)[] query)
    {
        var site = string.IsNullOrWhiteSpace(email.Value.PublicUrl)
            ? $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}"
            : email.Value.PublicUrl;
        return QueryHelpers.AddQueryString(site.TrimEnd('/') + path, query.Select(q => KeyValuePair.Create(q.Name, (string?)q.Value)));
    }
}
