using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Npgsql;

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

    /// <summary>
    /// SQLite: how long a starting Portal waits for another process to let go of the data folder (an
    /// overlapping restart) before it exits with code 4 naming that process (ADR 18).
    /// </summary>
    [Range(0, 600)]
    public int LockWaitSeconds { get; set; } = 10;

    /// <summary>
    /// How long an instance's lease lasts without a renewal (ADR 20). Once it lapses the instance is taken
    /// to be dead and another instance settles its credit holds: a dead instance's holds are released
    /// within about this plus <see cref="LeaseRenewSeconds"/>. Longer than any pause a live instance may
    /// have (a long GC, the store briefly away), since a live instance whose lease lapsed loses its holds.
    /// </summary>
    [Range(5, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often an instance renews its lease and looks for lapsed ones (at most a third of <see cref="LeaseSeconds"/>).</summary>
    [Range(1, 1200)]
    public int LeaseRenewSeconds { get; set; } = 5;

    /// <summary>
    /// The connection string's defaults on PostgreSQL, each only where the operator set nothing:
    /// <list type="bullet">
    /// <item><c>Max Auto Prepare=64</c>: Npgsql prepares the statements a connection runs often, so the
    /// gateway's few hot statements skip the server's parse and plan (bench: 888 → 1,165 requests/s).
    /// 0 turns it off (PgBouncer before 1.21 in transaction mode cannot keep prepared statements).</item>
    /// <item><c>Maximum Pool Size=20</c>: Npgsql's own default, 100, is a default server's whole
    /// <c>max_connections</c>, so one busy instance could take every slot and the next connection,
    /// anyone's, is refused. 20 leaves room for four instances and the operator (ADR 19, README).</item>
    /// <item><c>Timeout=5</c>: how long a request waits for a connection (a new one, or one of a full
    /// pool) before it is answered 503 with <c>Retry-After</c>, instead of Npgsql's 15 s.</item>
    /// </list>
    /// </summary>
    public void ApplyPostgresDefaults()
    {
        if (Provider != StoreProvider.Postgres || string.IsNullOrWhiteSpace(ConnectionString))
        {
            return;
        }

        try
        {
            // The keys the operator wrote (Npgsql's own builder reports every keyword it knows as present).
            var given = new DbConnectionStringBuilder { ConnectionString = ConnectionString };
            var changed = false;
            foreach (var (key, value, synonyms) in Defaults)
            {
                if (!given.Keys.Cast<string>().Any(k => synonyms.Contains(Normalized(k))))
                {
                    given[key] = value;
                    changed = true;
                }
            }

            if (changed)
            {
                ConnectionString = given.ConnectionString;
            }
        }
        catch (ArgumentException)
        {
            // Left as given: Npgsql names what is wrong with it when it first connects.
        }
    }

    public const int DefaultMaxPoolSize = 20;

    public const int DefaultConnectionTimeoutSeconds = 5;

    /// <summary>Each default, and the spellings Npgsql accepts for its key (without spaces, in lower case).</summary>
    private static readonly (string Key, int Value, string[] Synonyms)[] Defaults =
    [
        ("Max Auto Prepare", 64, ["maxautoprepare"]),
        ("Maximum Pool Size", DefaultMaxPoolSize, ["maxpoolsize", "maximumpoolsize"]),
        ("Timeout", DefaultConnectionTimeoutSeconds, ["timeout"]),
    ];

    private static string Normalized(string key) => key.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>The most connections this instance's PostgreSQL pool opens (after <see cref="ApplyPostgresDefaults"/>).</summary>
    public int PostgresMaxPoolSize
    {
        get
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(ConnectionString).MaxPoolSize;
            }
            catch (ArgumentException)
            {
                return DefaultMaxPoolSize; // Npgsql refuses the string when it connects, with its reason
            }
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseRenewSeconds * 3 > LeaseSeconds)
        {
            yield return new ValidationResult(
                $"Store:LeaseRenewSeconds ({LeaseRenewSeconds}) must be at most a third of Store:LeaseSeconds ({LeaseSeconds}): a live instance must renew its lease several times before it could lapse.",
                [nameof(LeaseRenewSeconds)]);
        }

        if (Provider == StoreProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Store:ConnectionString is required when Store:Provider is Postgres.",
                [nameof(ConnectionString)]);
        }
    }
}
