namespace Portal.ApiKeys;

/// <summary>How often a key's budget starts again: none, each UTC day, ISO week (from Monday) or calendar month (ADR 29).</summary>
public enum BudgetPeriod
{
    None = 0,
    Day = 1,
    Week = 2,
    Month = 3,
}
