using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Data;

namespace Portal.Usage;

public sealed record ModelUsage(string ModelId, int Requests, long PromptTokens, long CompletionTokens, long SpendMicros)
{
    public long Tokens => PromptTokens + CompletionTokens;
}

/// <summary>One request as the dashboard and the CSV export show it, or several alike refusals (<paramref name="Requests"/> &gt; 1).</summary>
public sealed record RequestRow(
    long Id, DateTime At, string RequestId, string ModelId, string? ApiKeyId, string? KeyName,
    int PromptTokens, int CompletionTokens, int ReasoningTokens, long CostMicros,
    int LatencyMs, int? TimeToFirstTokenMs, int Status, string? ErrorCode, string Provenance, bool Stream, int Requests,
    int CachedTokens = 0, long InputPriceMicros = 0, long CachedInputPriceMicros = 0, long OutputPriceMicros = 0, string? EndUser = null,
    string Api = FrontDoor.ChatCompletions)
{
    public bool Ok => Status < 400 && ErrorCode is null;

    /// <summary>What called: the key's name, "Playground", or a note that the key is gone.</summary>
    public string Source => ApiKeyId is null ? "Playground" : KeyName ?? "(deleted key)";
}

/// <summary>
/// The one order a list can be read in besides its default: both follow an index (requests by
/// user and time, ledger entries by user and id), so a page never sorts a user's whole history.
/// </summary>
public enum ListOrder
{
    NewestFirst,
    OldestFirst,
}

/// <param name="Skip">How many come before this page: the one asked for, or the last page's when that was past the end.</param>
public sealed record RequestPage(int Total, int Skip, IReadOnlyList<RequestRow> Rows);

/// <param name="HasMore">Whether older matching requests follow the last of <paramref name="Rows"/>.</param>
public sealed record RequestSlice(IReadOnlyList<RequestRow> Rows, bool HasMore);

/// <param name="BalanceAfterMicros">The available balance once this entry was written (the sum of the user's entries up to it).</param>
public sealed record LedgerRow(long Id, DateTime At, string Kind, long AmountMicros, long BalanceAfterMicros, string? Reason, string? RequestId);

/// <param name="Skip">How many come before this page: the one asked for, or the last page's when that was past the end.</param>
public sealed record LedgerPage(int Total, int Skip, IReadOnlyList<LedgerRow> Rows);

/// <summary>
/// What the dashboard reads. Every method takes the user id and filters by it in the database: a
/// caller can only ever get its own rows. The one exception, <see cref="EveryonesDailyAsync"/>, is
/// for the admin's service page, whose <c>ServiceAdmin</c> checks its caller first. Sums and counts
/// are computed by the database; requests are the sum of the records' <see cref="UsageRecord.Requests"/>
/// (one record may stand for several refusals), while pages count records; money is summed as integers (SQLite cannot sum decimals) and times
/// are UTC <see cref="DateTime"/>s (SQLite cannot order <see cref="DateTimeOffset"/>s).
/// </summary>
public sealed class UsageQueries(IDbContextFactory<PortalDbContext> dbFactory, CreditsLedger ledger, TimeProvider time)
{
    public const int Days = 30;

    /// <summary>The most rows one page may hold, whatever a caller asks for.</summary>
    public const int MaxPageSize = 100;

    public Task<BalanceSummary> BalanceAsync(string userId, CancellationToken cancellationToken = default) =>
        ledger.SummaryAsync(userId, cancellationToken);

    /// <summary>The first UTC day of the charts' window: today and the <see cref="Days"/> − 1 before it.</summary>
    public DateTime WindowStart() => time.GetUtcNow().UtcDateTime.Date.AddDays(1 - Days);

    /// <summary>The user's requests, tokens and spend per UTC day over the last <see cref="Days"/> days, oldest first, with empty days.</summary>
    public Task<IReadOnlyList<UsageDay>> DailyAsync(string userId, CancellationToken cancellationToken = default) =>
        DailyAsync(records => records.Where(r => r.UserId == userId), cancellationToken);

    /// <summary>The same for all users together: API and playground, every account.</summary>
    public Task<IReadOnlyList<UsageDay>> EveryonesDailyAsync(CancellationToken cancellationToken = default) =>
        DailyAsync(records => records, cancellationToken);

    private async Task<IReadOnlyList<UsageDay>> DailyAsync(Func<IQueryable<UsageRecord>, IQueryable<UsageRecord>> whose, CancellationToken cancellationToken)
    {
        var from = WindowStart();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var days = await whose(db.UsageRecords).Where(r => r.CreatedAt >= from)
            .GroupBy(r => r.CreatedAt.Date)
            .Select(g => new
            {
                Day = g.Key,
                Requests = g.Sum(r => r.Requests),
                Prompt = g.Sum(r => (long)r.PromptTokens),
                Completion = g.Sum(r => (long)r.CompletionTokens),
                Spend = g.Sum(r => r.CostMicros),
            })
            .ToListAsync(cancellationToken);
        var byDay = days.ToDictionary(d => DateTime.SpecifyKind(d.Day, DateTimeKind.Utc).Date);
        return Enumerable.Range(0, Days)
            .Select(i => from.AddDays(i))
            .Select(day => byDay.TryGetValue(day, out var d)
                ? new UsageDay(day, d.Requests, d.Prompt, d.Completion, d.Spend)
                : new UsageDay(day, 0, 0, 0, 0))
            .ToList();
    }

    /// <summary>Each model's share of the last <see cref="Days"/> days, biggest spend first.</summary>
    public async Task<IReadOnlyList<ModelUsage>> ByModelAsync(string userId, CancellationToken cancellationToken = default)
    {
        var from = WindowStart();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = await db.UsageRecords.Where(r => r.UserId == userId && r.CreatedAt >= from)
            .GroupBy(r => r.ModelId)
            .Select(g => new ModelUsage(g.Key, g.Sum(r => r.Requests), g.Sum(r => (long)r.PromptTokens), g.Sum(r => (long)r.CompletionTokens), g.Sum(r => r.CostMicros)))
            .ToListAsync(cancellationToken);
        return models.OrderByDescending(m => m.SpendMicros).ThenByDescending(m => m.Requests).ThenBy(m => m.ModelId, StringComparer.Ordinal).ToList();
    }

    /// <summary>A page of the user's requests matching <paramref name="filter"/>, newest first unless asked otherwise (the last page if <paramref name="skip"/> is past the end).</summary>
    public async Task<RequestPage> RequestsAsync(string userId, RequestFilter filter, int skip, int take, ListOrder order = ListOrder.NewestFirst, CancellationToken cancellationToken = default)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var matching = Matching(db, userId, filter);
        var total = await matching.CountAsync(cancellationToken);
        skip = Within(skip, take, total);
        var rows = await Rows(db, matching, order).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new RequestPage(total, skip, rows);
    }

    /// <summary>
    /// Up to <paramref name="take"/> of the user's requests matching <paramref name="filter"/>, newest
    /// first, after (older than) the user's request <paramref name="afterRequestId"/> — a cursor that
    /// stays put while new requests arrive, unlike a page number. Null when that request is not the
    /// user's (or does not exist).
    /// </summary>
    public async Task<RequestSlice?> RequestsAfterAsync(string userId, RequestFilter filter, string? afterRequestId, int take, CancellationToken cancellationToken = default)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var matching = Matching(db, userId, filter);
        if (afterRequestId is not null)
        {
            var cursor = await db.UsageRecords.Where(r => r.UserId == userId && r.RequestId == afterRequestId)
                .Select(r => new { r.CreatedAt, r.Id }).SingleOrDefaultAsync(cancellationToken);
            if (cursor is null)
            {
                return null;
            }

            matching = matching.Where(r => r.CreatedAt < cursor.CreatedAt || (r.CreatedAt == cursor.CreatedAt && r.Id < cursor.Id));
        }

        var rows = await Rows(db, matching).Take(take + 1).ToListAsync(cancellationToken);
        return new RequestSlice(rows.Take(take).ToList(), HasMore: rows.Count > take);
    }

    /// <summary>
    /// Every request matching <paramref name="filter"/>, newest first, read from the database as the
    /// caller consumes it: an export of a long history never sits in memory.
    /// </summary>
    public async IAsyncEnumerable<RequestRow> StreamRequestsAsync(string userId, RequestFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await foreach (var row in Rows(db, Matching(db, userId, filter)).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>The user's API key ids and names, for the key filter (revoked ones too: their requests remain).</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> KeysAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var keys = await db.ApiKeys.Where(k => k.OrganizationId == userId || (k.UserId == userId && k.OrganizationId == null)).OrderBy(k => k.Name).ThenBy(k => k.CreatedAt)
            .Select(k => new { k.Id, k.Name }).ToListAsync(cancellationToken);
        return keys.Select(k => (k.Id, k.Name)).ToList();
    }

    /// <summary>
    /// A page of the user's ledger, newest first, each entry with the available balance right after
    /// it (the last page if <paramref name="skip"/> is past the end). Without <paramref name="includeHolds"/>
    /// only grants and charges are listed — a settled request's hold and release cancel out — but
    /// the balances still count every entry.
    /// </summary>
    public async Task<LedgerPage> LedgerAsync(string userId, int skip, int take, bool includeHolds = true, ListOrder order = ListOrder.NewestFirst, CancellationToken cancellationToken = default)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.Ledger.Where(e => e.UserId == userId);
        var total = await (includeHolds ? entries : entries.Where(e => e.Kind == LedgerKind.Grant || e.Kind == LedgerKind.Charge))
            .CountAsync(cancellationToken);
        skip = Within(skip, take, total);

        // The balance after an entry is the running sum of the user's entries up to it: a window
        // function (SQLite and PostgreSQL alike), so only the page's rows leave the database, not
        // the holds and releases hidden between them.
        var withBalances = db.Database.SqlQuery<LedgerRow>($"""
            SELECT "Id", "CreatedAt" AS "At", "Kind", "AmountMicros", "Reason", "RequestId",
                   CAST(SUM("AmountMicros") OVER (ORDER BY "Id") AS BIGINT) AS "BalanceAfterMicros"
            FROM "LedgerEntries" WHERE "UserId" = {userId}
            """);
        var listed = includeHolds ? withBalances : withBalances.Where(e => e.Kind == LedgerKind.Grant || e.Kind == LedgerKind.Charge);
        var ordered = order == ListOrder.OldestFirst ? listed.OrderBy(e => e.Id) : listed.OrderByDescending(e => e.Id);
        var page = await ordered.Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new LedgerPage(total, skip, page.Select(e => e with { At = DateTime.SpecifyKind(e.At, DateTimeKind.Utc) }).ToList());
    }

    /// <summary>A hand-edited or stale page number past the end shows the last page, not an empty list.</summary>
    private static int Within(int skip, int take, int total) =>
        skip >= total ? Math.Max(0, (total - 1) / take * take) : Math.Max(0, skip);

    private static IQueryable<UsageRecord> Matching(PortalDbContext db, string userId, RequestFilter filter)
    {
        var records = db.UsageRecords.Where(r => r.UserId == userId);
        if (filter.Model is { } model)
        {
            records = records.Where(r => r.ModelId == model);
        }

        if (filter.Key == RequestFilter.Playground)
        {
            records = records.Where(r => r.ApiKeyId == null);
        }
        else if (filter.Key is { } key)
        {
            records = records.Where(r => r.ApiKeyId == key);
        }

        records = filter.Outcome switch
        {
            RequestOutcome.Ok => records.Where(r => r.Status < 400 && r.ErrorCode == null),
            RequestOutcome.Error => records.Where(r => r.Status >= 400 || r.ErrorCode != null),
            _ => records,
        };
        if (filter.EndUser is { } endUser)
        {
            records = records.Where(r => r.EndUser == endUser);
        }

        if (filter.FromUtc is { } from)
        {
            records = records.Where(r => r.CreatedAt >= from);
        }

        if (filter.ToUtcExclusive is { } to)
        {
            records = records.Where(r => r.CreatedAt < to);
        }

        return records;
    }

    private static IQueryable<RequestRow> Rows(PortalDbContext db, IQueryable<UsageRecord> records, ListOrder order = ListOrder.NewestFirst)
    {
        var withKeys = from r in records
                       join k in db.ApiKeys on r.ApiKeyId equals k.Id into keys
                       from k in keys.DefaultIfEmpty()
                       select new { r, KeyName = k == null ? null : k.Name };
        var ordered = order == ListOrder.OldestFirst
            ? withKeys.OrderBy(x => x.r.CreatedAt).ThenBy(x => x.r.Id)
            : withKeys.OrderByDescending(x => x.r.CreatedAt).ThenByDescending(x => x.r.Id);
        return ordered.Select(x => new RequestRow(x.r.Id, x.r.CreatedAt, x.r.RequestId, x.r.ModelId, x.r.ApiKeyId, x.KeyName,
            x.r.PromptTokens, x.r.CompletionTokens, x.r.ReasoningTokens, x.r.CostMicros,
            x.r.LatencyMs, x.r.TimeToFirstTokenMs, x.r.Status, x.r.ErrorCode, x.r.Provenance, x.r.Stream, x.r.Requests,
            x.r.CachedTokens, x.r.InputPriceMicros, x.r.CachedInputPriceMicros, x.r.OutputPriceMicros, x.r.EndUser, x.r.Api));
    }
}
