namespace Portal.Account;

/// <summary>Bound from the <c>Accounts</c> section.</summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>
    /// The first account to sign up becomes an admin. On in Development so a fresh checkout has an
    /// admin without extra steps; off by default, where the first admin comes from the CLI.
    /// </summary>
    public bool FirstUserBecomesAdmin { get; set; }

    /// <summary>
    /// Credits (USD) every new sign-up receives, as a ledger grant. 0 by default — credits come from an
    /// admin; Development gives some so a fresh checkout can use the playground at once.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(decimal), "0", "1000000")]
    public decimal WelcomeCreditsUsd { get; set; }

    /// <summary>Sign-in attempts one client address may make per minute (all emails together).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int LoginAttemptsPerMinutePerIp { get; set; } = 20;

    /// <summary>Sign-in attempts per minute for one email (from anywhere); Identity's lockout comes on top.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int LoginAttemptsPerMinutePerEmail { get; set; } = 10;

    /// <summary>Accounts one client address may create per hour (each may get welcome credits).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int SignUpsPerHourPerIp { get; set; } = 5;

    /// <summary>
    /// Attempts to redeem a code one account may make per hour, right or wrong: with 100 random bits
    /// per code guessing is hopeless anyway, this keeps it from costing the store (ADR 29).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int CodeRedemptionsPerHourPerAccount { get; set; } = 10;

    /// <summary>Attempts to redeem a code one client address may make per hour (all its accounts together).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int CodeRedemptionsPerHourPerIp { get; set; } = 30;

    /// <summary>
    /// An account must verify its email (follow the link mailed at sign-up) before it may create API
    /// keys or spend through the API or the playground; it can sign in and look around before. On by
    /// default; off in Development, so a fresh checkout works without reading mail.
    /// </summary>
    public bool RequireConfirmedEmail { get; set; } = true;

    /// <summary>How long the links in account mail (verify, reset password, change email) work.</summary>
    [System.ComponentModel.DataAnnotations.Range(5, 10_080)]
    public int EmailLinkMinutes { get; set; } = 120;

    /// <summary>The shortest wait between two verification (or reset) mails to one account.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 86_400)]
    public int EmailResendSeconds { get; set; } = 60;

    /// <summary>
    /// An admin must have two-factor sign-in (an authenticator app) turned on before the admin pages
    /// work; without it they are sent to set it up. On by default; off in Development, so a fresh
    /// checkout's first admin is not stopped. The admin command line is not affected (ADR 27).
    /// </summary>
    public bool RequireTwoFactorForAdmins { get; set; } = true;
}
