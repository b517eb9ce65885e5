using Portal.Billing;
using Portal.Usage;

namespace Portal.Tests.Usage;

/// <summary>Usage records written straight to the store, for the dashboard's and status page's queries.</summary>
public static class UsageSeed
{
    private static int _sequence;

    public static UsageRecord Record(string userId, DateTime at, string model = "glm-5", string? keyId = null,
        int prompt = 10, int completion = 20, long cost = 100, int status = 200, string? error = null,
        int latency = 500, int? ttft = 100, string provenance = Provenance.Reported) => new()
        {
            RequestId = $"req_seed{Interlocked.Increment(ref _sequence):D8}",
            UserId = userId,
            ApiKeyId = keyId,
            ModelId = model,
            Upstream = "simulated",
            PromptTokens = prompt,
            CompletionTokens = completion,
            CostMicros = cost,
            Status = status,
            ErrorCode = error,
            LatencyMs = latency,
            TimeToFirstTokenMs = ttft,
            Provenance = provenance,
            CreatedAt = DateTime.SpecifyKind(at, DateTimeKind.Utc),
        };

    public static async Task AddAsync(this PortalApplication app, params UsageRecord[] records)
    {
        await Gateway.GatewayFixtures.InStoreAsync(app, async db =>
        {
            db.UsageRecords.AddRange(records);
            return await db.SaveChangesAsync();
        });
    }

    public static DateTime Now(this PortalApplication app) => app.Time.GetUtcNow().UtcDateTime;
}
