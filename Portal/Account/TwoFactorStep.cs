namespace Portal.Account;

/// <summary>
/// The second step of a sign-in, after the password was right for an account with two-factor sign-in
/// on: Identity remembers who is half signed in (its short-lived two-factor cookie); these pages carry
/// where to go afterwards and whether the first step asked to keep the session.
/// </summary>
public static class TwoFactorStep
{
    public static string Url(string path, string? returnUrl, bool rememberMe) =>
        $"{path}?ReturnUrl={Uri.EscapeDataString(IdentityRedirectManager.LocalOnly(returnUrl))}&RememberMe={rememberMe.ToString().ToLowerInvariant()}";

    public const string Expired = "Your sign-in took too long and has timed out. Sign in with your password again.";
    public const string TooMany = "Too many sign-in attempts from here or for this account. Wait a minute, then try again.";
    public const string LockedOut = "Too many failed attempts. This account is locked for 15 minutes; try again later.";
}
