using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Billing;

namespace Portal.ApiKeys;

/// <summary>
/// A budget that resets (ADR 29), on a key or an organization member: at most <see cref="AmountMicros"/>
/// per <see cref="Period"/>, periods starting at midnight in <see cref="TimeZone"/> (an IANA id; null:
/// UTC). The row keeps the start of the period it last counted and what was spent in it; the hold's
/// conditional debit starts a new period when the request's own is later, so no job resets anything.
/// Period starts and resets are instants: the zone only decides where the boundaries fall.
/// </summary>
public readonly partial record struct KeyBudget(BudgetPeriod Period, long AmountMicros, string? TimeZone = null)
{
    /// <summary>The longest time zone id accepted (the longest IANA id is 32 characters).</summary>
    public const int MaxTimeZoneLength = 64;

    /// <summary>The start of the period holding <paramref name="utcNow"/>, as stored: seconds since the Unix epoch.</summary>
    public long PeriodStartAt(DateTime utcNow) => ToSeconds(StartOf(utcNow));

    /// <summary>When the period holding <paramref name="utcNow"/> ends and the budget is whole again (UTC).</summary>
    public DateTime ResetAfter(DateTime utcNow)
    {
        var zone = Zone;
        var start = LocalStart(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utcNow, DateTimeKind.Utc), zone));
        var next = Period switch
        {
            BudgetPeriod.Day => start.AddDays(1),
            BudgetPeriod.Week => start.AddDays(7),
            _ => start.AddMonths(1),
        };
        return ToUtc(next, zone);
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

    /// <summary>The zone's id as shown to people: "UTC" when none was set.</summary>
    public string ZoneName => TimeZone ?? "UTC";

    /// <summary>Spent in the period holding <paramref name="utcNow"/>, from the row's counters.</summary>
    public long SpentAt(DateTime utcNow, long storedPeriodStart, long storedSpent) =>
        storedPeriodStart >= PeriodStartAt(utcNow) ? storedSpent : 0;

    /// <summary>The budget as the key list and messages write it: "$5.00 daily", with its zone when it has one.</summary>
    public override string ToString() => $"{Money.Format(AmountMicros)} {Adjective}{(TimeZone is null ? "" : $" ({TimeZone})")}";

    public static string Iso(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>The budget a row describes; null when it has none.</summary>
    public static KeyBudget? Of(BudgetPeriod period, long? amountMicros, string? timeZone = null) =>
        period != BudgetPeriod.None && amountMicros is { } amount ? new KeyBudget(period, amount, timeZone) : null;

    /// <summary>
    /// Reads a time zone as a person typed it: empty means UTC (null); otherwise an id this machine
    /// knows (IANA, such as <c>Europe/Berlin</c>), returned as the system spells it. The id names a file
    /// under the zone database on Linux, so only id-shaped text reaches the lookup.
    /// </summary>
    public static bool TryParseTimeZone(string? input, out string? timeZone, out string? error)
    {
        timeZone = null;
        error = null;
        var text = (input ?? "").Trim();
        if (text.Length == 0)
        {
            return true;
        }

        if (text.Length > MaxTimeZoneLength || !ZoneShape().IsMatch(text) || text.Contains("..", StringComparison.Ordinal)
            || !TimeZoneInfo.TryFindSystemTimeZoneById(text, out var zone))
        {
            error = "Enter a time zone such as Europe/Berlin or America/New_York, or leave it empty for UTC.";
            return false;
        }

        timeZone = zone.Id == TimeZoneInfo.Utc.Id ? null : zone.Id;
        return true;
    }

    /// <summary>What is wrong with a budget given to a service (period, amount, zone), or null when it is good: the services' own check, whatever the form did.</summary>
    public static string? Problem(KeyBudget budget)
    {
        if (budget.Period is not (BudgetPeriod.Day or BudgetPeriod.Week or BudgetPeriod.Month))
        {
            return "Pick a day, a week or a month.";
        }

        if (budget.AmountMicros <= 0 || budget.AmountMicros > Money.FromUsd(KeyForm.MaxSpendCapUsd))
        {
            return "A budget is more than $0 and at most $1,000,000,000.";
        }

        return budget.TimeZone is null || TryParseTimeZone(budget.TimeZone, out var canonical, out _) && canonical == budget.TimeZone
            ? null
            : "Enter a time zone such as Europe/Berlin or America/New_York, or leave it empty for UTC.";
    }

    /// <summary>
    /// Whether going from <paramref name="was"/> to <paramref name="now"/> starts the spend afresh: a budget set or
    /// removed, or periods that fall differently (another period or zone). A new amount alone keeps the period's spend.
    /// </summary>
    public static bool StartsAfresh(KeyBudget? was, KeyBudget? now) =>
        was is not { } old || now is not { } next || old.Period != next.Period || old.TimeZone != next.TimeZone;

    // A zone this machine no longer knows (its zone database changed) counts as UTC rather than failing every request.
    private TimeZoneInfo Zone => TimeZone is not null && TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) ? zone : TimeZoneInfo.Utc;

    private DateTime StartOf(DateTime utcNow)
    {
        var zone = Zone;
        return ToUtc(LocalStart(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utcNow, DateTimeKind.Utc), zone)), zone);
    }

    /// <summary>Local midnight starting the period that holds <paramref name="local"/>: the day, the ISO week's Monday, the month's first.</summary>
    private DateTime LocalStart(DateTime local)
    {
        var day = DateTime.SpecifyKind(local.Date, DateTimeKind.Unspecified);
        return Period switch
        {
            BudgetPeriod.Day => day,
            BudgetPeriod.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            _ => new DateTime(day.Year, day.Month, 1),
        };
    }

    /// <summary>
    /// The instant a local midnight happens. Where the clocks go back over midnight it happens twice:
    /// the first counts. Where they go forward over it, it never happens: the period starts when the
    /// day does, at the jump (the instant the offset in force before it reaches midnight).
    /// </summary>
    private static DateTime ToUtc(DateTime local, TimeZoneInfo zone)
    {
        if (zone.IsAmbiguousTime(local))
        {
            return DateTime.SpecifyKind(local - zone.GetAmbiguousTimeOffsets(local).Max(), DateTimeKind.Utc);
        }

        if (zone.IsInvalidTime(local))
        {
            return DateTime.SpecifyKind(local - zone.GetUtcOffset(local.AddDays(-1)), DateTimeKind.Utc);
        }

        return TimeZoneInfo.ConvertTimeToUtc(local, zone);
    }

    private static long ToSeconds(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalSeconds;

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+\-/]*$")]
    private static partial Regex ZoneShape();
}
