using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Portal.Audit;

namespace Portal.Account;

/// <summary>
/// Signs in with a passkey the browser gave (the sign-in page, and the second step after a password):
/// Identity verifies the assertion against the challenge it issued; a passkey needs the authenticator's
/// user verification, so it is both factors at once and no code is asked after it (ADR 27).
/// Failures and successes go to the security log like any sign-in.
/// </summary>
public sealed class PasskeySignIn(SignInManager<PortalUser> signIn, AccountAudit audit, ILogger<PasskeySignIn> logger)
{
    public const string Refused = "That passkey did not sign you in. Try again, or sign in with your password.";
    public const string Cancelled = "No passkey was used. Try again, or sign in with your password.";

    /// <summary>Null when signed in; otherwise the message to show.</summary>
    public async Task<string?> SignInAsync(PasskeyInput input, HttpContext http)
    {
        if (string.IsNullOrEmpty(input.CredentialJson) || input.CredentialJson.Length > PasskeyInput.MaxLength)
        {
            return input.Error == "cancelled" || string.IsNullOrEmpty(input.CredentialJson) ? Cancelled : Refused;
        }

        PasskeyAssertionResult<PortalUser> assertion;
        try
        {
            assertion = await signIn.PerformPasskeyAssertionAsync(input.CredentialJson);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or FormatException or PasskeyException)
        {
            // No challenge issued (or it expired), or a body that is not a credential: nobody to blame by name.
            logger.LogInformation("Passkey sign-in refused: {Reason}", e.GetType().Name);
            return Refused;
        }

        if (!assertion.Succeeded)
        {
            logger.LogInformation("Passkey sign-in refused: {Reason}", assertion.Failure?.GetType().Name);
            return Refused;
        }

        var user = assertion.User;
        if (!await signIn.CanSignInAsync(user) || await signIn.UserManager.IsLockedOutAsync(user))
        {
            await audit.RecordAsync(AuditActions.SignInFailed, user, http, byOwner: false, new { factor = "passkey", reason = "locked out" });
            return "Too many failed attempts. This account is locked for 15 minutes; try again later.";
        }

        // The passkey's signature counter moved: keep it, so a cloned authenticator shows up.
        await signIn.UserManager.AddOrUpdatePasskeyAsync(user, assertion.Passkey);
        await signIn.UserManager.ResetAccessFailedCountAsync(user);
        await signIn.SignInAsync(user, isPersistent: false, authenticationMethod: "passkey");
        await audit.RecordAsync(AuditActions.SignIn, user, http, details: new { factor = "passkey" });
        return null;
    }
}
