using System.Globalization;

namespace Portal.ApiKeys;

/// <summary>
/// A budget that resets as typed in a dialog or form: the amount (empty removes the budget), the period
/// and the time zone (empty: UTC). Text until saved, so a bad entry stays in its box with its message.
/// </summary>
public sealed class BudgetForm
{
    public string Amount { get; set; } = "";

    public BudgetPeriod Period { get; set; } = BudgetPeriod.Day;

    public string TimeZone { get; set; } = "";

    /// <summary>The form filled with <paramref name="budget"/>, or empty (a daily budget in UTC offered) when there is none.</summary>
    public static BudgetForm Of(KeyBudget? budget) => budget is { } b
        ? new BudgetForm { Amount = Money.ToUsd(b.AmountMicros).ToString("0.00####", CultureInfo.InvariantCulture), Period = b.Period, TimeZone = b.TimeZone ?? "" }
        : new BudgetForm();

    /// <summary>What is wrong with each field (property name → message); empty when the form is good.</summary>
    public IReadOnlyDictionary<string, string> Check()
    {
        var errors = new Dictionary<string, string>();
        if (!KeyForm.TryParseUsd(Amount, "budget", out _, out var amountError))
        {
            errors[nameof(Amount)] = amountError;
        }

        if (Period is not (BudgetPeriod.Day or BudgetPeriod.Week or BudgetPeriod.Month))
        {
            errors[nameof(Period)] = "Pick a day, a week or a month.";
        }

        if (!KeyBudget.TryParseTimeZone(TimeZone, out _, out var zoneError))
        {
            errors[nameof(TimeZone)] = zoneError!;
        }

        return errors;
    }

    /// <summary>The budget to save, null to remove it; only call once <see cref="Check"/> found nothing wrong.</summary>
    public KeyBudget? ToBudget()
    {
        if (!KeyForm.TryParseUsd(Amount, "budget", out var micros, out _) || !KeyBudget.TryParseTimeZone(TimeZone, out var zone, out _))
        {
            throw new InvalidOperationException("The form was not checked before use.");
        }

        return micros is { } amount ? new KeyBudget(Period, amount, zone) : null;
    }
}
