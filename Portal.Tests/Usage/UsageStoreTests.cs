using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Tests.Store;
using Portal.Usage;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Usage;

/// <summary>
/// The dashboard's queries against a real store, run once per provider by the
/// derived classes: grouping by day, summing money and ordering by time must translate on both.
/// </summary>
public abstract class UsageStoreTests : StoreAppTest
{
    private const string Password = "correct horse battery";

    private UsageQueries Usage => App.Services.GetRequiredService<UsageQueries>();

    [Fact]
    public virtual async Task DaysAndModelsSumOnlyTheUsersOwnRequestsInsideTheWindow()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var today = App.Now().Date;                 // 2026-11-22
        var firstDay = today.AddDays(-29);          // the window's first UTC day
        await App.AddAsync(
            Record(ada.Id, App.Now(), "glm-5", prompt: 100, completion: 50, cost: 1_500_000),
            Record(ada.Id, today.AddMinutes(1), "kimi-k2", prompt: 7, completion: 3, cost: 250),
            Record(ada.Id, today.AddDays(-3).AddHours(23), "glm-5", prompt: 1, completion: 2, cost: 3),
            Record(ada.Id, firstDay, "glm-5", prompt: 5, completion: 5, cost: 1),
            Record(ada.Id, firstDay.AddTicks(-1), "glm-5", prompt: 1000, completion: 1000, cost: 9_000_000), // the day before: outside
            Record(bob.Id, App.Now(), "glm-5", prompt: 999, completion: 999, cost: 7_000_000));

        var days = await Usage.DailyAsync(ada.Id);

        Assert.Equal(UsageQueries.Days, days.Count);
        Assert.Equal(firstDay, days[0].Day);
        Assert.Equal(today, days[^1].Day);
        Assert.Equal(new UsageDay(today, 2, 107, 53, 1_500_250), days[^1]);
        Assert.Equal(new UsageDay(today.AddDays(-3), 1, 1, 2, 3), days[^4]);
        Assert.Equal(new UsageDay(firstDay, 1, 5, 5, 1), days[0]);
        Assert.Equal(4, days.Sum(d => d.Requests));
        Assert.Equal(1_500_254, days.Sum(d => d.SpendMicros));

        var models = await Usage.ByModelAsync(ada.Id);

        Assert.Equal(
            [new ModelUsage("glm-5", 3, 106, 57, 1_500_004), new ModelUsage("kimi-k2", 1, 7, 3, 250)],
            models);
    }

    [Fact]
    public virtual async Task RequestsAreTheUsersOwnNewestFirstFilteredAndPaged()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var keys = App.Services.GetRequiredService<ApiKeyService>();
        var (laptop, _) = await keys.CreateAsync(ada.Id, new NewApiKey("laptop"));
        var (bobs, _) = await keys.CreateAsync(bob.Id, new NewApiKey("bob's"));
        var now = App.Now();
        var oldest = Record(ada.Id, now.AddDays(-40), "glm-5", keyId: laptop.Id);
        var failed = Record(ada.Id, now.AddDays(-2), "kimi-k2", keyId: laptop.Id, status: 502, error: "upstream_error", cost: 0);
        var cutShort = Record(ada.Id, now.AddDays(-1), "glm-5", keyId: null, error: "upstream_error", provenance: Provenance.Partial);
        var playground = Record(ada.Id, now.AddHours(-1), "glm-5", keyId: null);
        var newest = Record(ada.Id, now, "glm-5", keyId: laptop.Id, prompt: 12, completion: 34, cost: 567);
        await App.AddAsync(oldest, failed, cutShort, playground, newest, Record(bob.Id, now, "glm-5", keyId: bobs.Id));

        var all = await Usage.RequestsAsync(ada.Id, RequestFilter.None, 0, 10);
        Assert.Equal(5, all.Total);
        Assert.Equal([newest.RequestId, playground.RequestId, cutShort.RequestId, failed.RequestId, oldest.RequestId], all.Rows.Select(r => r.RequestId));
        Assert.Equal(["laptop", "Playground", "Playground", "laptop", "laptop"], all.Rows.Select(r => r.Source));
        var first = all.Rows[0];
        Assert.Equal((12, 34, 567L, 200, true), (first.PromptTokens, first.CompletionTokens, first.CostMicros, first.Status, first.Ok));

        var second = await Usage.RequestsAsync(ada.Id, RequestFilter.None, 2, 2);
        Assert.Equal(5, second.Total);
        Assert.Equal([cutShort.RequestId, failed.RequestId], second.Rows.Select(r => r.RequestId));
        var pastTheEnd = await Usage.RequestsAsync(ada.Id, RequestFilter.None, 100, 2);
        Assert.Equal((5, 4), (pastTheEnd.Total, pastTheEnd.Skip));
        Assert.Equal([oldest.RequestId], pastTheEnd.Rows.Select(r => r.RequestId));
        var oldestFirst = await Usage.RequestsAsync(ada.Id, RequestFilter.None, 1, 2, ListOrder.OldestFirst);
        Assert.Equal([failed.RequestId, cutShort.RequestId], oldestFirst.Rows.Select(r => r.RequestId));
        Assert.Equal("laptop", oldestFirst.Rows[0].Source);

        Assert.Equal([failed.RequestId], await IdsAsync(ada.Id, model: "kimi-k2"));
        Assert.Equal([playground.RequestId, cutShort.RequestId], await IdsAsync(ada.Id, key: RequestFilter.Playground));
        Assert.Equal([newest.RequestId, failed.RequestId, oldest.RequestId], await IdsAsync(ada.Id, key: laptop.Id));
        // A stream cut by an upstream error answered 200 but did not succeed.
        Assert.Equal([cutShort.RequestId, failed.RequestId], await IdsAsync(ada.Id, status: "error"));
        Assert.Equal([newest.RequestId, playground.RequestId, oldest.RequestId], await IdsAsync(ada.Id, status: "ok"));
        // Both ends inclusive, whole UTC days.
        var twoDaysAgo = DateOnly.FromDateTime(now.AddDays(-2)).ToString("yyyy-MM-dd");
        var yesterday = DateOnly.FromDateTime(now.AddDays(-1)).ToString("yyyy-MM-dd");
        Assert.Equal([cutShort.RequestId, failed.RequestId], await IdsAsync(ada.Id, from: twoDaysAgo, to: yesterday));
        Assert.Equal([newest.RequestId, playground.RequestId], await IdsAsync(ada.Id, from: DateOnly.FromDateTime(now).ToString("yyyy-MM-dd")));
        Assert.Equal([playground.RequestId], await IdsAsync(ada.Id, model: "glm-5", key: RequestFilter.Playground, status: "ok"));
        // The first and last days a date can name are bounds like any other.
        Assert.Equal(all.Rows.Select(r => r.RequestId), await IdsAsync(ada.Id, from: "0001-01-01", to: "9999-12-31"));
        // Ada's key is not Bob's to filter by.
        var (_, errors) = RequestFilter.Parse(null, laptop.Id, null, null, null, [], [bobs.Id]);
        Assert.Equal([new FilterError("key", "That API key isn't one of yours. Pick one from the list.")], errors);
    }

    [Fact]
    public virtual async Task TheExportStreamsEveryMatchingRequestInPageOrder()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var now = App.Now();
        var records = Enumerable.Range(0, 30).Select(i => Record(ada.Id, now.AddMinutes(-i), i % 3 == 0 ? "kimi-k2" : "glm-5")).ToArray();
        await App.AddAsync([.. records, Record(bob.Id, now, "kimi-k2")]);
        var filter = RequestFilter.Parse("kimi-k2", null, null, null, null, ["glm-5", "kimi-k2"], []).Filter;

        var exported = new List<string>();
        await foreach (var row in Usage.StreamRequestsAsync(ada.Id, filter))
        {
            exported.Add(row.RequestId);
        }

        var paged = await Usage.RequestsAsync(ada.Id, filter, 0, 100);
        Assert.Equal(10, exported.Count);
        Assert.Equal(paged.Rows.Select(r => r.RequestId), exported);
        Assert.Equal(records.Where((_, i) => i % 3 == 0).Select(r => r.RequestId), exported);
    }

    [Fact]
    public virtual async Task TheLedgerShowsTheBalanceAfterEachEntryAcrossPages()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var ledger = App.Services.GetRequiredService<CreditsLedger>();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await ledger.GrantAsync(ada.Id, 5_000_000, "welcome", actorId: null);
        await ledger.GrantAsync(bob.Id, 9_000_000, "bob's", actorId: null);
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(ada.Id, null, "req_one", 1_000_000));
        await writer.SettleAsync(new Settlement(ada.Id, null, "req_one", 1_000_000, 123), Record(ada.Id, App.Now()));
        await ledger.GrantAsync(ada.Id, -500_000, "correction", actorId: null);
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(ada.Id, null, "req_two", 2_000_000)); // still running

        var page = await Usage.LedgerAsync(ada.Id, 0, 10);

        Assert.Equal(6, page.Total);
        Assert.Equal(
            [
                (LedgerKind.Hold, -2_000_000L, 2_499_877L),
                (LedgerKind.Grant, -500_000L, 4_499_877L),
                (LedgerKind.Charge, -123L, 4_999_877L),
                (LedgerKind.Release, 1_000_000L, 5_000_000L),
                (LedgerKind.Hold, -1_000_000L, 4_000_000L),
                (LedgerKind.Grant, 5_000_000L, 5_000_000L),
            ],
            page.Rows.Select(r => (r.Kind, r.AmountMicros, r.BalanceAfterMicros)));
        Assert.Equal((await ledger.SummaryAsync(ada.Id)).BalanceMicros, page.Rows[0].BalanceAfterMicros);
        Assert.Equal("correction", page.Rows[1].Reason);
        Assert.Equal("req_one", page.Rows[2].RequestId);

        var second = await Usage.LedgerAsync(ada.Id, 4, 4);
        Assert.Equal([4_000_000L, 5_000_000L], second.Rows.Select(r => r.BalanceAfterMicros));
        var pastTheEnd = await Usage.LedgerAsync(ada.Id, 40, 4);
        Assert.Equal(4, pastTheEnd.Skip);
        Assert.Equal(second.Rows, pastTheEnd.Rows);
        var oldestFirst = await Usage.LedgerAsync(ada.Id, 0, 2, order: ListOrder.OldestFirst);
        Assert.Equal([(LedgerKind.Grant, 5_000_000L), (LedgerKind.Hold, 4_000_000L)], oldestFirst.Rows.Select(r => (r.Kind, r.BalanceAfterMicros)));

        // Without holds: grants and charges only, the balances still counting every entry.
        var settled = await Usage.LedgerAsync(ada.Id, 0, 10, includeHolds: false);
        Assert.Equal(3, settled.Total);
        Assert.Equal(
            [(LedgerKind.Grant, -500_000L, 4_499_877L), (LedgerKind.Charge, -123L, 4_999_877L), (LedgerKind.Grant, 5_000_000L, 5_000_000L)],
            settled.Rows.Select(r => (r.Kind, r.AmountMicros, r.BalanceAfterMicros)));
        var settledSecond = await Usage.LedgerAsync(ada.Id, 1, 1, includeHolds: false);
        Assert.Equal([4_999_877L], settledSecond.Rows.Select(r => r.BalanceAfterMicros));

        // The running request's hold, hidden between two listed entries, still counts.
        await ledger.GrantAsync(ada.Id, 1_000_000, "top-up", actorId: null);
        var topped = await Usage.LedgerAsync(ada.Id, 0, 2, includeHolds: false);
        Assert.Equal(4, topped.Total);
        Assert.Equal(
            [(LedgerKind.Grant, 1_000_000L, 3_499_877L), (LedgerKind.Grant, -500_000L, 4_499_877L)],
            topped.Rows.Select(r => (r.Kind, r.AmountMicros, r.BalanceAfterMicros)));
        Assert.Equal(DateTimeKind.Utc, topped.Rows[0].At.Kind);
    }

    private async Task<List<string>> IdsAsync(string userId, string? model = null, string? key = null, string? status = null,
        string? from = null, string? to = null)
    {
        var keys = (await Usage.KeysAsync(userId)).Select(k => k.Id).ToList();
        var (filter, errors) = RequestFilter.Parse(model, key, status, from, to, ["glm-5", "kimi-k2", "glm-5.2", "deepseek-r1"], keys);
        Assert.Empty(errors);
        return (await Usage.RequestsAsync(userId, filter, 0, 100)).Rows.Select(r => r.RequestId).ToList();
    }
}

public sealed class SqliteUsageStoreTests : UsageStoreTests
{
    protected override bool OnPostgres => false;
}
