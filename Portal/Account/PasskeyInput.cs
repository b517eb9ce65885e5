namespace Portal.Account;

/// <summary>What <c>wwwroot/passkeys.js</c> posts with a passkey form: the browser's credential as JSON, or why there is none.</summary>
public sealed class PasskeyInput
{
    /// <summary>Bounded: a real credential is a few kilobytes at most.</summary>
    public const int MaxLength = 16_384;

    public string? CredentialJson { get; set; }

    /// <summary><c>cancelled</c> when the user said no, <c>failed</c> otherwise; never shown as sent.</summary>
    public string? Error { get; set; }
}
