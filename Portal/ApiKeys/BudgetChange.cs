namespace Portal.ApiKeys;

/// <summary>The outcome of changing a key's budget: done, or refused with the reason to show.</summary>
public sealed record BudgetChange(bool Done, string Message)
{
    public static readonly BudgetChange NotAllowed = new(false, "You may not change this key's budget. Nothing was changed.");
}
