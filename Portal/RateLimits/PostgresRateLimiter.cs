using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Portal.Data;

namespace Portal.RateLimits;

/// <summary>
/// The rate limiter of instances sharing a PostgreSQL store (ADR 7, batched by ADR 28): the requests
/// that arrive while one round trip is out go together in the next, one statement for all their keys —
/// each key's row locked (in key order, so instances cannot deadlock), as many of its requests
/// taken as its bucket holds, in arrival order — so a key's limit holds however many instances serve
/// it, at one round trip per batch instead of one per request. Time is each instance's clock (they
/// are expected to agree within milliseconds, as NTP keeps them).
/// </summary>
public sealed class PostgresRateLimiter : IRateLimiter, IAsyncDisposable
{
    /// <summary>Makes the buckets of keys seen for the first time, full; a key deleted meanwhile gets none.</summary>
    private const string Create = """
        INSERT INTO "RateLimitBuckets" ("KeyId", "FullAt")
        SELECT k, 0 FROM unnest($1::text[]) AS k WHERE EXISTS (SELECT FROM "ApiKeys" WHERE "Id" = k) ORDER BY k
        ON CONFLICT ("KeyId") DO NOTHING
        """;

    // $1 keys (distinct), $2 requests per key, $3 interval, $4 capacity (limit × interval), $5 now.
    // FOR UPDATE reads each row's newest version once its lock is taken, so the room is counted on
    // what other instances have taken up to that moment.
    private const string Take = """
        WITH asked AS (SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS a("KeyId", n, step, cap)),
        locked AS (SELECT "KeyId", GREATEST("FullAt", $5) AS base FROM "RateLimitBuckets" WHERE "KeyId" = ANY($1) ORDER BY "KeyId" FOR UPDATE),
        taken AS (SELECT "KeyId", base, step, LEAST(n, GREATEST(0, (cap - (base - $5)) / step)) AS took FROM asked JOIN locked USING ("KeyId")),
        moved AS (UPDATE "RateLimitBuckets" b SET "FullAt" = t.base + t.took * t.step FROM taken t WHERE b."KeyId" = t."KeyId" AND t.took > 0)
        SELECT "KeyId", took, base FROM taken
        """;

    private readonly TimeProvider _time;
    private readonly string _connectionString;
    private readonly RoundTripBatches<Asked> _batches;

    public PostgresRateLimiter(TimeProvider time, IOptions<StoreOptions> store)
    {
        _time = time;
        // The same connection string as the store's, so the same Npgsql pool.
        _connectionString = store.Value.ConnectionString!;
        _batches = new RoundTripBatches<Asked>(DecideAsync, static (batch, e) =>
        {
            // Every request of the batch fails as its own statement would have (ADR 19).
            foreach (var asked in batch)
            {
                asked.Decision.TrySetException(e);
            }
        });
    }

    /// <summary>How many round trips decided requests so far (each decides a batch).</summary>
    internal long RoundTrips => _batches.RoundTrips;

    public ValueTask<RateDecision> AcquireAsync(string keyId, int limit, CancellationToken cancellationToken)
    {
        var asked = new Asked(keyId, limit);
        return _batches.TryAdd(asked)
            ? new ValueTask<RateDecision>(asked.Decision.Task.WaitAsync(cancellationToken))
            : ValueTask.FromException<RateDecision>(new ObjectDisposedException(nameof(PostgresRateLimiter)));
    }

    private async Task DecideAsync(List<Asked> batch)
    {
        // One row per key, its requests in arrival order; a key asked with two limits at once (its limit
        // just changed) is taken from at the newest.
        var keys = batch.GroupBy(a => a.KeyId, StringComparer.Ordinal).Select(g => (KeyId: g.Key, Asked: g.ToList(), Limit: g.Last().Limit)).ToList();
        var now = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000);

        // A pooled connection for the round trip only: the pool is the store's, and small (ADR 19).
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var statements = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(Create) { Parameters = { new() { Value = keys.Select(k => k.KeyId).ToArray() } } },
                new NpgsqlBatchCommand(Take)
                {
                    Parameters =
                    {
                        new() { Value = keys.Select(k => k.KeyId).ToArray() },
                        new() { Value = keys.Select(k => k.Asked.Count).ToArray() },
                        new() { Value = keys.Select(k => RateBucket.Interval(k.Limit)).ToArray() },
                        new() { Value = keys.Select(k => k.Limit * RateBucket.Interval(k.Limit)).ToArray() },
                        new() { Value = now, NpgsqlDbType = NpgsqlDbType.Bigint },
                    },
                },
            },
        };

        var taken = new Dictionary<string, (int Took, long Base)>(keys.Count, StringComparer.Ordinal);
        await using (var reader = await statements.ExecuteReaderAsync())
        {
            // The reader starts at the first statement with rows: the insert returns none.
            while (await reader.ReadAsync())
            {
                taken[reader.GetString(0)] = ((int)reader.GetInt64(1), reader.GetInt64(2));
            }
        }

        foreach (var (keyId, asked, limit) in keys)
        {
            var step = RateBucket.Interval(limit);
            // A key without a bucket row was deleted: it has no allowance.
            var (took, start) = taken.GetValueOrDefault(keyId, (0, now));
            for (var i = 0; i < asked.Count; i++)
            {
                asked[i].Decision.TrySetResult(i < took
                    ? RateBucket.Allowed(limit, start + (i + 1) * step, now)
                    : RateBucket.Refused(limit, start + took * step, now));
            }
        }
    }

    public ValueTask DisposeAsync() => _batches.DisposeAsync();

    private sealed record Asked(string KeyId, int Limit)
    {
        public TaskCompletionSource<RateDecision> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
