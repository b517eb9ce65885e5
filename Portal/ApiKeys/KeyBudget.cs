using System.Globalization;
using Portal.Billing;

namespace Portal.ApiKeys;

/// <summary>
/// A key's budget that resets (ADR 29): at most <see cref="AmountMicros"/> per <see cref="Period"/>,
/// periods in UTC. The key row keeps the start of the period it last counted and what was spent in
/// it; the hold's conditional debit starts a new period when the request's own is later, so no job
/// resets anything.
/// </summary>
public readonly record struct KeyBudget(BudgetPeriod Period, long AmountMicros)
{
    /// <summary>The start of the period holding <paramref name="utcNow"/>, as stored: seconds since the Unix epoch.</summary>
    public long PeriodStartAt(DateTime utcNow) => ToSeconds(StartOf(utcNow));

    /// <summary>When the period holding <paramref name="utcNow"/> ends and the budget is whole again.</summary>
    public DateTime ResetAfter(DateTime utcNow)
    {
        var start = StartOf(utcNow);
        return Period switch
        {
            BudgetPeriod.Day => start.AddDays(1),
            BudgetPeriod.Week => start.AddDays(7),
            _ => start.AddMonths(1),
        };
    }

    /// <summary>"daily", "weekly", "monthly": how the 402 and the key list name it.</summary>
    public string Adjective => Period switch
    {
        BudgetPeriod.Day => "daily",
        BudgetPeriod.Week => "weekly",
        _ => "monthly",
    };

    /// <summary>"today", "this week", "this month".</summary>
    public string Current => Period switch
    {
        BudgetPeriod.Day => "today",
        BudgetPeriod.Week => "this week",
        _ => "this month",
    };

    /// <summary>Spent in the period holding <paramref name="utcNow"/>, from the key row's counters.</summary>
    public long SpentAt(DateTime utcNow, long storedPeriodStart, long storedSpent) =>
        storedPeriodStart >= PeriodStartAt(utcNow) ? storedSpent : 0;

    /// <summary>The budget as the key list and messages write it: "$5.00 daily".</summary>
    public override string ToString() => $"{Money.Format(AmountMicros)} {Adjective}";

    public static string Iso(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>The budget a key row describes; null when it has none.</summary>
    public static KeyBudget? Of(BudgetPeriod period, long? amountMicros) =>
        period != BudgetPeriod.None && amountMicros is { } amount ? new KeyBudget(period, amount) : null;

    private DateTime StartOf(DateTime utcNow)
    {
        var day = utcNow.Date;
        return Period switch
        {
            BudgetPeriod.Day => DateTime.SpecifyKind(day, DateTimeKind.Utc),
            BudgetPeriod.Week => DateTime.SpecifyKind(day.AddDays(-(((int)day.DayOfWeek + 6) % 7)), DateTimeKind.Utc),
            _ => new DateTime(day.Year, day.Month, 1, 0, 0, 0, DateTimeKind.Utc),
        };
    }

    private static long ToSeconds(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalSeconds;
}
