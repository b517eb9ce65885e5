using System.ComponentModel.DataAnnotations;

namespace Portal.Data;

public enum StoreProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where Portal keeps its data. Bound from the <c>Store</c> section.</summary>
public sealed class StoreOptions : IValidatableObject
{
    public const string Section = "Store";

    public StoreProvider Provider { get; set; } = StoreProvider.Sqlite;

    /// <summary>Folder for the SQLite file (and anything else kept on disk); relative to the content root.</summary>
    [Required]
    public string DataFolder { get; set; } = "data";

    /// <summary>Required for PostgreSQL; for SQLite it overrides the file under <see cref="DataFolder"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// SQLite: make every ledger commit wait for the disk (fsync), so it also survives an OS crash or
    /// power cut. Off, a commit survives the process dying but the newest may be lost with the machine (ADR 6).
    /// </summary>
    public bool SqliteSyncCommits { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StoreProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Store:ConnectionString is required when Store:Provider is Postgres.",
                [nameof(ConnectionString)]);
        }
    }
}
