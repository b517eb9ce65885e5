namespace Portal.E2E.Cluster;

/// <summary>
/// The ledger's invariants, checked with SQL against the shared store once every instance is at rest
/// (ADR 3): nothing lost, nothing counted twice, whatever happened to the processes.
/// </summary>
public static class LedgerAudit
{
    public static async Task AssertConsistentAsync(ClusterDatabase database)
    {
        var drift = await database.RowsAsync("""
            SELECT b."UserId", b."BalanceMicros", COALESCE(SUM(l."AmountMicros"), 0)
            FROM "CreditBalances" b LEFT JOIN "LedgerEntries" l ON l."UserId" = b."UserId"
            GROUP BY b."UserId", b."BalanceMicros"
            HAVING b."BalanceMicros" <> COALESCE(SUM(l."AmountMicros"), 0) OR b."BalanceMicros" < 0
            """);
        Assert.True(drift.Count == 0, $"balance ≠ Σ ledger (or negative) for: {Describe(drift)}");

        Assert.Equal(0L, await database.ScalarAsync<long>("""
            SELECT count(*) FROM "LedgerEntries" h WHERE h."Kind" = 'hold'
            AND NOT EXISTS (SELECT FROM "LedgerEntries" r WHERE r."RequestId" = h."RequestId" AND r."Kind" = 'release')
            """));

        var twice = await database.RowsAsync("""
            SELECT "RequestId", "Kind", count(*) FROM "LedgerEntries" WHERE "RequestId" IS NOT NULL
            GROUP BY "RequestId", "Kind" HAVING count(*) > 1
            """);
        Assert.True(twice.Count == 0, $"request entries made more than once: {Describe(twice)}");

        // Every settled request: one usage record, costing what the ledger charged.
        var unrecorded = await database.RowsAsync("""
            SELECT r."RequestId", (SELECT count(*) FROM "UsageRecords" u WHERE u."RequestId" = r."RequestId")
            FROM "LedgerEntries" r WHERE r."Kind" = 'release'
            AND ((SELECT count(*) FROM "UsageRecords" u WHERE u."RequestId" = r."RequestId") <> 1
              OR (SELECT u."CostMicros" FROM "UsageRecords" u WHERE u."RequestId" = r."RequestId" LIMIT 1)
                 <> COALESCE((SELECT -c."AmountMicros" FROM "LedgerEntries" c WHERE c."RequestId" = r."RequestId" AND c."Kind" = 'charge'), 0))
            """);
        Assert.True(unrecorded.Count == 0, $"settled requests without exactly one matching usage record: {Describe(unrecorded)}");

        // A key's spend is what was charged through it, once no hold is outstanding.
        var spent = await database.RowsAsync("""
            SELECT k."Id", k."SpentMicros", COALESCE(-SUM(c."AmountMicros"), 0)
            FROM "ApiKeys" k LEFT JOIN "LedgerEntries" c ON c."ApiKeyId" = k."Id" AND c."Kind" = 'charge'
            GROUP BY k."Id", k."SpentMicros" HAVING k."SpentMicros" <> COALESCE(-SUM(c."AmountMicros"), 0)
            """);
        Assert.True(spent.Count == 0, $"key spend ≠ Σ charges for: {Describe(spent)}");
    }

    private static string Describe(List<object?[]> rows) =>
        string.Join("; ", rows.Take(10).Select(r => string.Join(", ", r))) + (rows.Count > 10 ? $" … ({rows.Count} rows)" : "");
}
