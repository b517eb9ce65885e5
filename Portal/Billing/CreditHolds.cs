using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Billing;

/// <summary>What a completion reserved, or why it could not: <see cref="Refusal"/> is the client's 402 message.</summary>
public readonly record struct HoldResult(long HoldMicros, string? Refusal);

/// <summary>
/// Sizes and takes a completion's hold: its worst case (the prompt's upper bound plus max_tokens × n,
/// at the model's prices) is reserved before the upstream call, so no request can spend credits it
/// does not have (ADR 3). A refusal says what the balance or the key's cap would afford instead.
/// </summary>
public sealed class CreditHolds(LedgerWriter writer, CreditsLedger ledger)
{
    public async Task<HoldResult> TryHoldAsync(Payer payer, string requestId, ChatRequest request, ModelInfo model)
    {
        var promptBound = TokenEstimator.PromptTokensUpperBound(request, model);
        var hold = Money.Cost(promptBound, (long)request.MaxTokens * request.N, model.InputPriceMicros, model.OutputPriceMicros);
        return await writer.TryHoldAsync(payer.UserId, payer.Key?.KeyId, requestId, hold) switch
        {
            HoldOutcome.Held => new HoldResult(hold, null),
            HoldOutcome.KeySpendCapReached => new HoldResult(hold,
                $"This key's spend cap of {Money.Format(payer.Key!.SpendCapMicros ?? 0)} does not cover this request's worst case of {Money.Format(hold)}."),
            _ => new HoldResult(hold, await UnaffordableMessageAsync(payer, request, model, promptBound, hold)),
        };
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
