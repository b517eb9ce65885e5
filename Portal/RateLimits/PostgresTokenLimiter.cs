using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Portal.Data;

namespace Portal.RateLimits;

/// <summary>
/// The tokens-per-minute limiter of instances sharing a PostgreSQL store, built as the request limiter is
/// (ADR 7, batched by ADR 28): what arrives while one round trip is out — requests' worst cases and
/// settled requests' unused tokens — goes together in the next, one statement that locks the batch's
/// bucket rows in key order, gives back first, then admits each bucket's requests in arrival order while
/// they fit. A bucket's row is read once its lock is held, so no instance can spend what another took.
/// </summary>
public sealed class PostgresTokenLimiter : ITokenLimiter, IAsyncDisposable
{
    /// <summary>Makes the buckets seen for the first time, full; a key deleted meanwhile gets none.</summary>
    private const string Create = """
        INSERT INTO "TokenLimitBuckets" ("KeyId", "ModelId", "FullAt")
        SELECT k, m, 0 FROM unnest($1::text[], $2::text[]) AS a(k, m) WHERE EXISTS (SELECT FROM "ApiKeys" WHERE "Id" = k) ORDER BY k, m
        ON CONFLICT ("KeyId", "ModelId") DO NOTHING
        """;

    // $1–$3 the asks (key, model, cost µs) in arrival order, $4–$6 the give-backs, $7 now, $8 a full bucket (µs).
    // A bucket's asks are admitted while their running sum fits: arrival order, as on one instance,
    // except that one that does not fit also stops the smaller ones behind it in the same batch.
    private const string Take = """
        WITH asked AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS a("KeyId", "ModelId", cost, i)),
        back AS (SELECT "KeyId", "ModelId", sum(cost) AS cost FROM unnest($4::text[], $5::text[], $6::bigint[]) AS g("KeyId", "ModelId", cost) GROUP BY 1, 2),
        locked AS (
            SELECT b."KeyId", b."ModelId", b."FullAt" FROM "TokenLimitBuckets" b
            WHERE EXISTS (SELECT FROM asked a WHERE a."KeyId" = b."KeyId" AND a."ModelId" = b."ModelId")
               OR EXISTS (SELECT FROM back g WHERE g."KeyId" = b."KeyId" AND g."ModelId" = b."ModelId")
            ORDER BY b."KeyId", b."ModelId" FOR UPDATE),
        start AS (SELECT l."KeyId", l."ModelId", GREATEST(l."FullAt" - COALESCE(g.cost, 0), $7) AS base FROM locked l LEFT JOIN back g USING ("KeyId", "ModelId")),
        running AS (SELECT a.i, a."KeyId", a."ModelId", sum(a.cost) OVER (PARTITION BY a."KeyId", a."ModelId" ORDER BY a.i) AS upto FROM asked a),
        took AS (
            SELECT s."KeyId", s."ModelId", s.base, COALESCE(max(r.upto) FILTER (WHERE r.upto <= $8 - (s.base - $7)), 0) AS took
            FROM start s LEFT JOIN running r USING ("KeyId", "ModelId") GROUP BY 1, 2, 3),
        moved AS (UPDATE "TokenLimitBuckets" b SET "FullAt" = t.base + t.took FROM took t WHERE b."KeyId" = t."KeyId" AND b."ModelId" = t."ModelId")
        SELECT r.i, t.base, r.upto, t.took FROM running r JOIN took t USING ("KeyId", "ModelId")
        """;

    private readonly TimeProvider _time;
    private readonly string _connectionString;
    private readonly RoundTripBatches<Item> _batches;

    public PostgresTokenLimiter(TimeProvider time, IOptions<StoreOptions> store)
    {
        _time = time;
        // The same connection string as the store's, so the same Npgsql pool.
        _connectionString = store.Value.ConnectionString!;
        _batches = new RoundTripBatches<Item>(DecideAsync, static (batch, e) =>
        {
            // Every ask of the batch fails as its own statement would have (ADR 19). Unused tokens not
            // given back refill within the minute.
            foreach (var asked in batch.OfType<Asked>())
            {
                asked.Decision.TrySetException(e);
            }
        });
    }

    /// <summary>How many round trips decided asks so far (each decides a batch).</summary>
    internal long RoundTrips => _batches.RoundTrips;

    public ValueTask<TokenDecision> TakeAsync(string keyId, string modelId, int limit, long cost)
    {
        var asked = new Asked(keyId, modelId, limit, cost);
        return _batches.TryAdd(asked)
            ? new ValueTask<TokenDecision>(asked.Decision.Task)
            : ValueTask.FromException<TokenDecision>(new ObjectDisposedException(nameof(PostgresTokenLimiter)));
    }

    /// <summary>Goes with the next batch, not waited for: a later request of this instance's comes after it.</summary>
    public void GiveBack(string keyId, string modelId, long cost)
    {
        if (cost > 0)
        {
            _batches.TryAdd(new Returned(keyId, modelId, cost));
        }
    }

    private async Task DecideAsync(List<Item> batch)
    {
        var asks = batch.OfType<Asked>().ToList();
        var backs = batch.OfType<Returned>().ToList();
        var now = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000);
        var buckets = asks.Select(a => (a.KeyId, a.ModelId)).Distinct().ToList();

        // A pooled connection for the round trip only: the pool is the store's, and small (ADR 19).
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var statements = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(Create)
                {
                    Parameters = { new() { Value = buckets.Select(b => b.KeyId).ToArray() }, new() { Value = buckets.Select(b => b.ModelId).ToArray() } },
                },
                new NpgsqlBatchCommand(Take)
                {
                    Parameters =
                    {
                        new() { Value = asks.Select(a => a.KeyId).ToArray() },
                        new() { Value = asks.Select(a => a.ModelId).ToArray() },
                        new() { Value = asks.Select(a => a.Cost).ToArray() },
                        new() { Value = backs.Select(b => b.KeyId).ToArray() },
                        new() { Value = backs.Select(b => b.ModelId).ToArray() },
                        new() { Value = backs.Select(b => b.Cost).ToArray() },
                        new() { Value = now, NpgsqlDbType = NpgsqlDbType.Bigint },
                        new() { Value = TokenBucket.Capacity, NpgsqlDbType = NpgsqlDbType.Bigint },
                    },
                },
            },
        };

        var decided = new Dictionary<long, (long Base, long Upto, long Took)>(asks.Count);
        await using (var reader = await statements.ExecuteReaderAsync())
        {
            // The reader starts at the first statement with rows: the insert returns none.
            while (await reader.ReadAsync())
            {
                decided[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }

        for (var i = 0; i < asks.Count; i++)
        {
            var asked = asks[i];
            // A bucket without a row belongs to a deleted key: it has no allowance.
            asked.Decision.TrySetResult(decided.TryGetValue(i + 1, out var d)
                ? d.Upto <= d.Took
                    ? TokenBucket.Allowed(asked.Limit, d.Base + d.Upto, now)
                    : TokenBucket.Refused(asked.Limit, d.Base + d.Took, now, asked.Cost)
                : TokenBucket.Refused(asked.Limit, now + TokenBucket.Capacity, now, asked.Cost));
        }
    }

    public ValueTask DisposeAsync() => _batches.DisposeAsync();

    private abstract record Item(string KeyId, string ModelId, long Cost);

    private sealed record Returned(string KeyId, string ModelId, long Cost) : Item(KeyId, ModelId, Cost);

    private sealed record Asked(string KeyId, string ModelId, int Limit, long Cost) : Item(KeyId, ModelId, Cost)
    {
        public TaskCompletionSource<TokenDecision> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
