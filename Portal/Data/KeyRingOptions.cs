using System.ComponentModel.DataAnnotations;

namespace Portal.Data;

/// <summary>
/// The secret that encrypts the Data Protection key ring where it is stored, kept out of the store
/// so a copy of the database decrypts nothing (ADR 14). Bound from the <c>DataProtection</c> section.
/// </summary>
public sealed class KeyRingOptions : IValidatableObject
{
    public const string Section = "DataProtection";

    /// <summary>The file the secret is generated into, in the data folder, when none is configured (SQLite only).</summary>
    public const string DefaultFileName = "keyring.key";

    /// <summary>32 random bytes in base64 (<c>openssl rand -base64 32</c>), e.g. from <c>DataProtection__KeyRingSecret</c>.</summary>
    public string? KeyRingSecret { get; set; }

    /// <summary>A file holding the secret in the same form, e.g. a mounted secret; read at start-up.</summary>
    public string? KeyRingSecretFile { get; set; }

    /// <summary>Secrets being rotated out: they still decrypt, and at start-up everything is re-encrypted with the current one.</summary>
    public List<string> PreviousKeyRingSecrets { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(KeyRingSecret) && !string.IsNullOrWhiteSpace(KeyRingSecretFile))
        {
            yield return new ValidationResult(
                "DataProtection:KeyRingSecret and DataProtection:KeyRingSecretFile are both set; set one.", [nameof(KeyRingSecret)]);
        }

        if (!string.IsNullOrWhiteSpace(KeyRingSecret) && !Data.KeyRingSecret.TryParse(KeyRingSecret, out _))
        {
            yield return new ValidationResult($"DataProtection:KeyRingSecret {Data.KeyRingSecret.Expected}", [nameof(KeyRingSecret)]);
        }

        for (var i = 0; i < PreviousKeyRingSecrets.Count; i++)
        {
            if (!Data.KeyRingSecret.TryParse(PreviousKeyRingSecrets[i], out _))
            {
                yield return new ValidationResult($"DataProtection:PreviousKeyRingSecrets:{i} {Data.KeyRingSecret.Expected}", [nameof(PreviousKeyRingSecrets)]);
            }
        }
    }
}
