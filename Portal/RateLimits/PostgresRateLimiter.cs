using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;

namespace Portal.RateLimits;

/// <summary>
/// The rate limiter of instances sharing a PostgreSQL store (ADR 7): each request takes from the key's
/// bucket with one statement — insert or conditionally advance the row, and read it back when refused —
/// so a key's limit holds however many instances serve it. Time is each instance's clock (they are
/// expected to agree within milliseconds, as NTP keeps them).
/// </summary>
public sealed class PostgresRateLimiter(TimeProvider time, IOptions<StoreOptions> store) : IRateLimiter
{
    // $1 key, $2 now, $3 interval, $4 capacity (limit × interval). The row lock taken by ON CONFLICT
    // orders concurrent requests for one key; the WHERE is checked against the newest row.
    private const string Sql = """
        WITH taken AS (
            INSERT INTO "RateLimitBuckets" AS b ("KeyId", "FullAt") VALUES ($1, $2 + $3)
            ON CONFLICT ("KeyId") DO UPDATE SET "FullAt" = GREATEST(b."FullAt", $2) + $3
            WHERE GREATEST(b."FullAt", $2) + $3 - $2 <= $4
            RETURNING "FullAt")
        SELECT true, "FullAt" FROM taken
        UNION ALL
        SELECT false, "FullAt" FROM "RateLimitBuckets" WHERE "KeyId" = $1 AND NOT EXISTS (SELECT FROM taken)
        """;

    private readonly string _connectionString = store.Value.ConnectionString!;

    public async ValueTask<RateDecision> AcquireAsync(string keyId, int limit, CancellationToken cancellationToken)
    {
        var interval = RateBucket.Interval(limit);
        var now = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000);

        // The same connection string as the store's, so the same Npgsql pool.
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Sql, connection)
        {
            Parameters = { new() { Value = keyId }, new() { Value = now }, new() { Value = interval }, new() { Value = limit * interval } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            // Refused while another request created the row after this statement's snapshot.
            return RateBucket.Refused(limit, null, now);
        }

        var fullAt = reader.GetInt64(1);
        return reader.GetBoolean(0) ? RateBucket.Allowed(limit, fullAt, now) : RateBucket.Refused(limit, fullAt, now);
    }
}
