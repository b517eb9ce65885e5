using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.Gateway.Responses;

/// <summary>
/// The Responses API's stored responses (ADR 32): each user's own, fetched, continued and deleted
/// only by their keys, kept <see cref="ResponsesOptions.KeepDays"/> and within
/// <see cref="ResponsesOptions.StoredBytesPerAccount"/> (storing past it deletes the user's oldest).
/// </summary>
public sealed partial class ResponseStore(IDbContextFactory<PortalDbContext> dbFactory, IOptions<ResponsesOptions> options, TimeProvider time, ILogger<ResponseStore> logger)
{
    /// <summary>The longest id Portal gives a Response; anything longer is none of its own.</summary>
    public const int MaxIdLength = 64;

    /// <summary>An id as a client sent it, cut short: it goes back into an error message.</summary>
    public static string Shown(string id) => id.Length <= MaxIdLength ? id : id[..MaxIdLength] + "…";

    public bool Enabled => options.Value.KeepDays > 0;

    private DateTime Cutoff => time.GetUtcNow().UtcDateTime.AddDays(-options.Value.KeepDays);

    public async Task<StoredResponse?> FindAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (!Enabled || id.Length > MaxIdLength)
        {
            return null;
        }

        var cutoff = Cutoff;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.StoredResponses.AsNoTracking()
            .SingleOrDefaultAsync(r => r.Id == id && r.UserId == userId && r.CreatedAt > cutoff, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (id.Length > MaxIdLength)
        {
            return false;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.StoredResponses.Where(r => r.Id == id && r.UserId == userId).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    /// <summary>
    /// Keeps a finished Response with the conversation that led to it. The client has its reply by now,
    /// so a store that fails is logged, not thrown: the Response just cannot be continued or fetched.
    /// </summary>
    public async Task SaveAsync(string userId, string id, JsonArray input, JsonObject response)
    {
        var row = new StoredResponse
        {
            Id = id,
            UserId = userId,
            CreatedAt = time.GetUtcNow().UtcDateTime,
            Input = input.ToJsonString(Wire.Json),
            Response = response.ToJsonString(Wire.Json),
        };
        row.Bytes = Encoding.UTF8.GetByteCount(row.Input) + Encoding.UTF8.GetByteCount(row.Response);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            db.StoredResponses.Add(row);
            await db.SaveChangesAsync();
            var cutoff = Cutoff;
            await db.StoredResponses.Where(r => r.CreatedAt <= cutoff).ExecuteDeleteAsync();
            await KeepWithinAllowanceAsync(db, userId, id);
        }
        catch (Exception e) when (e is DbUpdateException || StoreOutage.IsOutage(e))
        {
            LogNotStored(logger, e, id);
        }
    }

    /// <summary>Deletes the account's oldest responses (never <paramref name="newest"/>) until the rest fit its allowance.</summary>
    private async Task KeepWithinAllowanceAsync(PortalDbContext db, string userId, string newest)
    {
        var mine = db.StoredResponses.Where(r => r.UserId == userId);
        var excess = await mine.SumAsync(r => r.Bytes) - options.Value.StoredBytesPerAccount;
        while (excess > 0)
        {
            var oldest = await mine.Where(r => r.Id != newest).OrderBy(r => r.CreatedAt).ThenBy(r => r.Id)
                .Select(r => new { r.Id, r.Bytes }).Take(100).ToListAsync();
            if (oldest.Count == 0)
            {
                return;
            }

            var doomed = new List<string>();
            foreach (var response in oldest.TakeWhile(_ => excess > 0))
            {
                doomed.Add(response.Id);
                excess -= response.Bytes;
            }

            await mine.Where(r => doomed.Contains(r.Id)).ExecuteDeleteAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response {ResponseId} could not be stored; it cannot be continued or fetched")]
    private static partial void LogNotStored(ILogger logger, Exception error, string responseId);
}
