using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Codes;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Codes;

/// <summary>
/// Redemption codes (ADR 29): made in batches with only their hashes stored, handed out in one CSV,
/// redeemed once however many try at the same time, refused clearly when expired, revoked, used or
/// unknown, throttled and audited; on SQLite and PostgreSQL (there by two instances at once).
/// </summary>
public abstract class RedemptionCodeTests : StoreAppTest
{
    protected const string Password = "correct horse battery";

    protected RedemptionCodes Codes => App.Services.GetRequiredService<RedemptionCodes>();

    protected async Task<GeneratedBatch> GenerateAsync(string value = "5", int count = 3, string expiresInDays = "", string note = "test batch")
    {
        var (result, batch) = await Codes.GenerateAsync(AdminCaller.Cli, new NewCodeBatch { Value = value, Count = count.ToString(), ExpiresInDays = expiresInDays, Note = note });
        Assert.True(result.Succeeded, result.Problem ?? string.Join(" ", result.Errors.Values));
        return batch!;
    }

    protected static Task<RedeemResult> RedeemAsync(RedemptionCodes codes, string userId, string code) =>
        codes.RedeemAsync(userId, code, new AuditActor(userId, userId), "203.0.113.9");

    [Fact]
    public virtual async Task TheStoreHoldsOnlyHashesAndTheCsvHoldsExactlyTheGeneratedCodes()
    {
        var generated = await GenerateAsync(value: "2.50", count: 50, expiresInDays: "30", note: "Hackathon Berlin");

        Assert.Equal(50, generated.Codes.Distinct().Count());
        Assert.All(generated.Codes, c => Assert.Matches("^PORTAL(-[0-9A-HJKMNP-TV-Z]{5}){4}$", c));
        var csv = CodesCsv.Of(generated).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(CodesCsv.Header.TrimEnd('\n'), csv[0]);
        Assert.Equal(generated.Codes.Order(), csv.Skip(1).Select(line => line.Split(',')[0]).Order());
        Assert.All(csv.Skip(1), line => Assert.EndsWith($",2.50,{generated.Batch.ExpiresAt:yyyy-MM-ddTHH:mm:ssZ},{generated.Batch.Id}", line));

        // What the store has: the codes' hashes, and nowhere the codes or their random part.
        var hashes = await App.InStoreAsync(db => db.RedemptionCodes.Where(c => c.BatchId == generated.Batch.Id).Select(c => c.Hash).ToListAsync());
        Assert.Equal(generated.Codes.Select(c => CodeFormat.HashOf(CodeFormat.Canonical(c)!)).Order(), hashes.Order());
        var everything = string.Join("\n", await App.InStoreAsync(async db =>
            (await db.RedemptionCodes.Select(c => c.Hash + c.RedeemedBy).ToListAsync())
            .Concat(await db.CodeBatches.Select(b => b.Note + b.CreatedBy).ToListAsync())
            .Concat(await db.AuditEntries.Select(e => e.Target + e.Details).ToListAsync())));
        Assert.All(generated.Codes, c => Assert.DoesNotContain(c[7..].Replace("-", ""), everything.Replace("-", "")));

        // The admin list tells value, count and note, and offers no codes to download again.
        var row = Assert.Single(await Codes.ListAsync(AdminCaller.Cli));
        Assert.Equal((generated.Batch.Id, Money.FromUsd(2.5m), 50, 0, "Hackathon Berlin"), (row.Id, row.ValueMicros, row.Count, row.Redeemed, row.Note));
        Assert.Contains(await App.InStoreAsync(db => db.AuditEntries.Select(e => e.Action).ToListAsync()), a => a == AuditActions.CodesGenerate);
    }

    [Fact]
    public virtual async Task TwentyParallelRedemptionsOfOneCodeGrantItOnce()
    {
        var code = (await GenerateAsync(value: "5", count: 1)).Codes[0];
        var users = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            users.Add((await App.CreateUserAsync($"racer{i}@example.com", Password)).Id);
        }

        var others = OtherInstances();
        var results = await Task.WhenAll(users.Select((user, i) => Task.Run(() => RedeemAsync(others.Count == 0 ? Codes : others[i % others.Count], user, code))));

        var winner = Assert.Single(results, r => r.Succeeded);
        Assert.Equal(Money.FromUsd(5m), winner.AmountMicros);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(RedeemOutcome.AlreadyRedeemed, r.Outcome));
        var grants = await App.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Grant).ToListAsync());
        var grant = Assert.Single(grants);
        Assert.Equal(Money.FromUsd(5m), grant.AmountMicros);
        Assert.StartsWith("Redemption code, batch #", grant.Reason);
        Assert.Equal(Money.FromUsd(5m), (await App.InStoreAsync(db => db.CreditBalances.SumAsync(b => b.BalanceMicros))));
        var redeemed = await App.InStoreAsync(db => db.RedemptionCodes.SingleAsync());
        Assert.Equal(grant.UserId, redeemed.RedeemedBy);
        Assert.Single(await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.CodeRedeem).ToListAsync()));
        await App.AssertLedgerConsistentAsync();
    }

    /// <summary>Codes services of more instances on the same store (PostgreSQL); none on SQLite, which serves one.</summary>
    protected virtual IReadOnlyList<RedemptionCodes> OtherInstances() => [];

    [Fact]
    public virtual async Task ExpiredRevokedUsedAndUnknownCodesEachGetTheirOwnAnswerAndNoCredits()
    {
        var user = (await App.CreateUserAsync("ada@example.com", Password)).Id;
        var expiring = await GenerateAsync(count: 1, expiresInDays: "1");
        var revoked = await GenerateAsync(count: 2);
        var good = await GenerateAsync(value: "1", count: 1);

        App.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var expired = await RedeemAsync(Codes, user, expiring.Codes[0]);
        Assert.Equal(RedeemOutcome.Expired, expired.Outcome);
        Assert.Contains($"expired on {expiring.Batch.ExpiresAt:yyyy-MM-dd HH:mm} UTC", expired.Message);

        Assert.True((await Codes.RevokeAsync(AdminCaller.Cli, revoked.Batch.Id)).Succeeded);
        Assert.False((await Codes.RevokeAsync(AdminCaller.Cli, revoked.Batch.Id)).Succeeded);
        Assert.Equal(RedeemOutcome.Revoked, (await RedeemAsync(Codes, user, revoked.Codes[0])).Outcome);

        // Typed loosely: lower case, spaces for dashes, O for 0 and L for 1, no prefix.
        var loose = good.Codes[0][7..].ToLowerInvariant().Replace('-', ' ').Replace('0', 'o').Replace('1', 'l');
        var ok = await RedeemAsync(Codes, user, loose);
        Assert.Equal(RedeemOutcome.Redeemed, ok.Outcome);
        Assert.Equal("Code redeemed: $1.00 was added to your balance.", ok.Message);
        Assert.Equal(RedeemOutcome.AlreadyRedeemed, (await RedeemAsync(Codes, user, good.Codes[0])).Outcome);

        // A made-up code in the right shape, and things that are no code at all: one answer.
        var unknown = await RedeemAsync(Codes, user, "PORTAL-ABCDE-FGHJK-MNPQR-STVWX");
        foreach (var nonsense in new[] { "", "   ", "PORTAL-ABCDE", "PORTAL-ABCDE-FGHJK-MNPQR-STVWU", new string('A', 5000), "'; DROP TABLE x; --" })
        {
            var refused = await RedeemAsync(Codes, user, nonsense);
            Assert.Equal((RedeemOutcome.NotValid, unknown.Message), (refused.Outcome, refused.Message));
        }

        Assert.Equal(RedeemOutcome.NotValid, unknown.Outcome);
        Assert.Equal(Money.FromUsd(1m), await App.BalanceAsync(user));
        var batches = await Codes.ListAsync(AdminCaller.Cli);
        Assert.Equal(1, batches.Single(b => b.Id == good.Batch.Id).Redeemed);
        Assert.NotNull(batches.Single(b => b.Id == revoked.Batch.Id).RevokedAt);
        Assert.Equal(0, batches.Single(b => b.Id == revoked.Batch.Id).Redeemed);
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task FailedAttemptsAreAuditedWithTheirReasonAtMostOncePerAccountAndMinuteAndNeverWithTheCode()
    {
        var user = (await App.CreateUserAsync("guesser@example.test", Password)).Id;
        var other = (await App.CreateUserAsync("other@example.test", Password)).Id;
        var batch = await GenerateAsync(count: 2);
        Assert.Equal(RedeemOutcome.Redeemed, (await RedeemAsync(Codes, user, batch.Codes[0])).Outcome);

        // A burst of wrong guesses at once, then a used code: one entry for the minute, the first failure's.
        var guesses = Enumerable.Range(0, 10).Select(i => $"PORTAL-ABCDE-FGHJK-MNPQR-STVW{i}").ToList();
        var burst = await Task.WhenAll(guesses.Select(g => Task.Run(() => RedeemAsync(Codes, user, g))));
        Assert.All(burst, r => Assert.Equal(RedeemOutcome.NotValid, r.Outcome));
        Assert.Equal(RedeemOutcome.AlreadyRedeemed, (await RedeemAsync(Codes, user, batch.Codes[0])).Outcome);
        Assert.Equal(RedeemOutcome.NotValid, (await RedeemAsync(Codes, other, "not a code")).Outcome);

        var entries = await FailuresAsync();
        var mine = Assert.Single(entries, e => e.Target == Portal.Account.AccountAudit.TargetOf(user));
        Assert.Contains("\"reason\":\"not_valid\"", mine.Details);
        Assert.Contains("\"ip\":\"203.0.113.9\"", mine.Details);
        Assert.Equal(user, mine.ActorId);
        Assert.Single(entries, e => e.Target == Portal.Account.AccountAudit.TargetOf(other));

        // A minute on, the next failure is recorded again.
        App.Time.Advance(RedemptionCodes.FailureAuditWindow + TimeSpan.FromSeconds(1));
        Assert.Equal(RedeemOutcome.AlreadyRedeemed, (await RedeemAsync(Codes, user, batch.Codes[0])).Outcome);
        entries = await FailuresAsync();
        Assert.Equal(2, entries.Count(e => e.Target == Portal.Account.AccountAudit.TargetOf(user)));
        Assert.Contains(entries, e => e.Details.Contains("\"reason\":\"already_redeemed\""));

        // Nothing of any code typed is in the log: not the code, its random part or its hash.
        var everything = string.Join("\n", entries.Select(e => e.Details));
        foreach (var typed in guesses.Append(batch.Codes[0]))
        {
            var canonical = CodeFormat.Canonical(typed)!;
            Assert.DoesNotContain(typed[7..].Replace("-", ""), everything.Replace("-", ""));
            Assert.DoesNotContain(CodeFormat.HashOf(canonical)[..8], everything);
        }

        Assert.True((await App.Services.GetRequiredService<AuditLog>().VerifyAsync()).Ok);
    }

    private Task<List<AuditEntry>> FailuresAsync() =>
        App.InStoreAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Action == AuditActions.CodeRedeemFailed).ToListAsync());
}
