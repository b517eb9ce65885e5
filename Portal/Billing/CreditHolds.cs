using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Billing;

/// <summary>
/// What a completion reserved, or why it could not: <see cref="Refusal"/> is the client's 402 message.
/// <see cref="BudgetPeriodStart"/>: the key's budget period the hold counted in, for its settlement (ADR 29).
/// <see cref="MemberBudgetPeriodStart"/>: the same for the organization member's budget, 0 when the member has none.
/// </summary>
public readonly record struct HoldResult(long HoldMicros, string? Refusal, long BudgetPeriodStart = 0, long MemberBudgetPeriodStart = 0);

/// <summary>
/// Sizes and takes a completion's hold: its worst case (the prompt's upper bound plus max_tokens × n,
/// at the model's prices) is reserved before the upstream call, so no request can spend credits it
/// does not have (ADR 3). A refusal says what the balance or the key's cap would afford instead.
/// </summary>
public sealed class CreditHolds(LedgerWriter writer, CreditsLedger ledger, IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public async Task<HoldResult> TryHoldAsync(Payer payer, string requestId, ChatRequest request, ModelInfo model)
    {
        var promptBound = TokenEstimator.PromptTokensUpperBound(request, model);
        var hold = Money.Cost(promptBound, (long)request.MaxTokens * request.N, model.InputPriceMicros, model.OutputPriceMicros);
        var now = time.GetUtcNow().UtcDateTime;
        var budgetStart = payer.Key?.Budget is { } budget ? budget.PeriodStartAt(now) : 0;
        var memberStart = payer.Key?.MemberBudget is { } memberBudget ? memberBudget.PeriodStartAt(now) : 0;
        return await writer.TryHoldAsync(payer.UserId, payer.Key?.KeyId, requestId, hold, budgetStart, payer.Key?.MemberId, memberStart) switch
        {
            HoldOutcome.Held => new HoldResult(hold, null, budgetStart, memberStart),
            HoldOutcome.KeySpendCapReached => new HoldResult(hold, await KeyLimitMessageAsync(payer.Key!, hold, now)),
            HoldOutcome.MemberBudgetReached => new HoldResult(hold, await MemberBudgetMessageAsync(payer.Key!, hold, now)),
            _ => new HoldResult(hold, await UnaffordableMessageAsync(payer, request, model, promptBound, hold)),
        };
    }

    /// <summary>
    /// Which of the key's limits refused the hold — its budget that resets, named with the instant it
    /// resets (ADR 29), or its lifetime cap — read from the key's row now: only refusals pay this read.
    /// </summary>
    private async Task<string> KeyLimitMessageAsync(AuthenticatedKey key, long hold, DateTime now)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var row = await db.ApiKeys.AsNoTracking().Where(k => k.Id == key.KeyId)
            .Select(k => new { k.SpendCapMicros, k.SpentMicros, k.BudgetPeriod, k.BudgetMicros, k.BudgetTimeZone, k.BudgetPeriodStart, k.BudgetSpentMicros })
            .FirstOrDefaultAsync();
        var capFits = row?.SpendCapMicros is not { } cap || row.SpentMicros + hold <= cap;
        if (capFits && row is not null && KeyBudget.Of(row.BudgetPeriod, row.BudgetMicros, row.BudgetTimeZone) is { } budget)
        {
            var left = budget.AmountMicros - budget.SpentAt(now, row.BudgetPeriodStart, row.BudgetSpentMicros);
            var until = KeyBudget.Iso(budget.ResetAfter(now));
            return left <= 0
                ? $"This key's {budget.Adjective} budget of {Money.Format(budget.AmountMicros)} is spent until {until}."
                : $"This key's {budget.Adjective} budget of {Money.Format(budget.AmountMicros)} has {Money.Format(left)} left until {until}, less than this request's worst case of {Money.Format(hold)}.";
        }

        return $"This key's spend cap of {Money.Format(row?.SpendCapMicros ?? key.SpendCapMicros ?? 0)} does not cover this request's worst case of {Money.Format(hold)}.";
    }

    /// <summary>The organization member's budget that refused the hold, with what is left and when it resets, read from the member's row now.</summary>
    private async Task<string> MemberBudgetMessageAsync(AuthenticatedKey key, long hold, DateTime now)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var row = await db.OrganizationMembers.AsNoTracking().Where(m => m.OrganizationId == key.OrganizationId && m.UserId == key.UserId)
            .Select(m => new { m.BudgetPeriod, m.BudgetMicros, m.BudgetTimeZone, m.BudgetPeriodStart, m.BudgetSpentMicros })
            .FirstOrDefaultAsync();
        if (row is null || KeyBudget.Of(row.BudgetPeriod, row.BudgetMicros, row.BudgetTimeZone) is not { } budget)
        {
            // Removed from the organization, or the budget changed since the key was read: the key stops within a second.
            return "Your organization member budget does not cover this request's worst case of " + Money.Format(hold) + ".";
        }

        var left = budget.AmountMicros - budget.SpentAt(now, row.BudgetPeriodStart, row.BudgetSpentMicros);
        var until = KeyBudget.Iso(budget.ResetAfter(now));
        return left <= 0
            ? $"Your {budget.Adjective} member budget in this organization, {Money.Format(budget.AmountMicros)}, is spent until {until}."
            : $"Your {budget.Adjective} member budget in this organization, {Money.Format(budget.AmountMicros)}, has {Money.Format(left)} left until {until}, less than this request's worst case of {Money.Format(hold)}.";
    }

    /// <summary>The most <c>, "max_tokens": 2147483647</c> adds to a body.</summary>
    private const int MaxTokensFieldBytes = 32;

    private async Task<string> UnaffordableMessageAsync(Payer payer, ChatRequest request, ModelInfo model, long promptBound, long hold)
    {
        var balance = (await ledger.SummaryAsync(payer.UserId)).BalanceMicros;
        // The advice must still hold once the client adds "max_tokens": N to its body, which the bound counts too.
        var promptCost = Money.Cost(promptBound + MaxTokensFieldBytes, 0, model.InputPriceMicros, model.OutputPriceMicros);
        var perToken = Math.Max(1, model.OutputPriceMicros) * request.N;
        var affordable = balance <= promptCost ? 0 : (long)((Int128)(balance - promptCost) * 1_000_000 / perToken);
        var what = $"Your balance of {Money.Format(balance)} cannot cover this request's worst case of {Money.Format(hold)} (prompt plus max_tokens = {request.MaxTokens}{(request.N > 1 ? $" × n = {request.N}" : "")}).";
        return affordable >= 1
            ? $"{what} It affords max_tokens = {Math.Min(affordable, request.MaxTokens - 1)}; lower max_tokens or add credits."
            : $"{what} It does not cover the prompt itself; add credits.";
    }
}
