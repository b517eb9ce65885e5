using System.Globalization;

namespace Portal.ApiKeys;

/// <summary>
/// What the "Create key" form holds, as typed. Numbers stay text until submitted so a bad entry is
/// kept in its box with a message beside it instead of being thrown away by a parser.
/// </summary>
/// <param name="maxRateLimit">The most requests per minute a key may be given (<c>ApiKeys:MaxRequestsPerMinute</c>).</param>
public sealed class KeyForm(int maxRateLimit)
{
    public const int MaxNameLength = 100;
    public const int MinRateLimit = 1;
    /// <summary>The same ceiling the admin CLI accepts for an amount; keeps micro-dollars far from overflow.</summary>
    public const decimal MaxSpendCapUsd = 1_000_000_000m;
    /// <summary>Also what the name box says by itself when left empty.</summary>
    public const string NameMissing = "Give the key a name, so you can tell it apart from your others.";

    public string Name { get; set; } = "";

    /// <summary>The key stops working at 00:00 UTC on this day.</summary>
    public DateOnly? ExpiresOn { get; set; }

    public string SpendCap { get; set; } = "";

    public string RateLimit { get; set; } = "";

    /// <summary>Tokens per minute on each model, as typed; empty: each model's default (ADR 33).</summary>
    public string TokensPerMinute { get; set; } = "";

    /// <summary>The budget that resets, USD per <see cref="BudgetPeriod"/>, as typed; empty: none (ADR 29).</summary>
    public string Budget { get; set; } = "";

    public BudgetPeriod BudgetPeriod { get; set; } = BudgetPeriod.Day;

    public HashSet<string> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>The first day a key can be set to expire on, given the time now.</summary>
    public static DateOnly EarliestExpiry(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime).AddDays(1);

    /// <summary>What is wrong with each field (property name → message); empty when the form is good.</summary>
    public IReadOnlyDictionary<string, string> Check(DateTimeOffset now)
    {
        var errors = new Dictionary<string, string>();
        var name = Name.Trim();
        if (name.Length == 0)
        {
            errors[nameof(Name)] = NameMissing;
        }
        else if (name.Length > MaxNameLength)
        {
            errors[nameof(Name)] = $"Names are at most {MaxNameLength} characters; this one has {name.Length}.";
        }

        if (ExpiresOn is { } day && day < EarliestExpiry(now))
        {
            errors[nameof(ExpiresOn)] = "Pick a date after today: the key stops working at 00:00 UTC on that day.";
        }

        if (!TryParseSpendCap(out _, out var capError))
        {
            errors[nameof(SpendCap)] = capError;
        }

        if (!TryParseRateLimit(out _, out var rateError))
        {
            errors[nameof(RateLimit)] = rateError;
        }

        if (!TryParseTokensPerMinute(TokensPerMinute, out _, out var tokensError))
        {
            errors[nameof(TokensPerMinute)] = tokensError;
        }

        if (!TryParseUsd(Budget, "budget", out _, out var budgetError))
        {
            errors[nameof(Budget)] = budgetError;
        }
        else if (BudgetPeriod is not (BudgetPeriod.Day or BudgetPeriod.Week or BudgetPeriod.Month))
        {
            errors[nameof(BudgetPeriod)] = "Pick a day, a week or a month.";
        }

        return errors;
    }

    /// <summary>The request to create the key; only call once <see cref="Check"/> found nothing wrong.</summary>
    public NewApiKey ToRequest()
    {
        if (!TryParseSpendCap(out var cap, out _) || !TryParseRateLimit(out var rate, out _) || !TryParseUsd(Budget, "budget", out var budget, out _)
            || !TryParseTokensPerMinute(TokensPerMinute, out var tokens, out _))
        {
            throw new InvalidOperationException("The form was not checked before use.");
        }

        return new NewApiKey(
            Name.Trim(),
            ExpiresOn?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            cap,
            Models.Count == 0 ? null : Models.Order(StringComparer.Ordinal).ToList(),
            rate,
            budget is { } amount ? new KeyBudget(BudgetPeriod, amount) : null,
            tokens);
    }

    private bool TryParseSpendCap(out long? micros, out string error) => TryParseUsd(SpendCap, "spend cap", out micros, out error);

    /// <summary>An optional positive amount in USD: the spend cap's rules, for the cap and the budget alike.</summary>
    internal static bool TryParseUsd(string typed, string what, out long? micros, out string error)
    {
        micros = null;
        error = "";
        var text = typed.Trim().TrimStart('$').Trim();
        if (text.Length == 0)
        {
            return true;
        }

        // Invariant culture and no thousands separators: "1,5" must not quietly become 15 dollars.
        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var usd))
        {
            error = "Enter an amount in US dollars, such as 25 or 12.50.";
            return false;
        }

        if (usd <= 0)
        {
            error = $"A {what} must be more than $0. Leave it empty for no {(what == "budget" ? "budget" : "cap")}.";
            return false;
        }

        if (decimal.Round(usd, 6) != usd)
        {
            error = "Amounts go down to a millionth of a dollar (6 decimal places) at most.";
            return false;
        }

        if (usd > MaxSpendCapUsd)
        {
            error = $"A {what} can be at most $1,000,000,000. Leave it empty for no {(what == "budget" ? "budget" : "cap")}.";
            return false;
        }

        micros = Money.FromUsd(usd);
        return true;
    }

    /// <summary>An optional whole number of tokens per minute, 1 to <see cref="RateLimits.TokenLimits.Max"/>; the CLI shares it.</summary>
    public static bool TryParseTokensPerMinute(string typed, out int? perMinute, out string error)
    {
        perMinute = null;
        error = "";
        var text = typed.Trim();
        if (text.Length == 0)
        {
            return true;
        }

        var range = $"from 1 to {RateLimits.TokenLimits.Max.ToString("N0", CultureInfo.InvariantCulture)}";
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < 1 || value > RateLimits.TokenLimits.Max)
        {
            error = $"Enter a whole number of tokens per minute {range}, or leave it empty for each model's default.";
            return false;
        }

        perMinute = (int)value;
        return true;
    }

    private bool TryParseRateLimit(out int? perMinute, out string error)
    {
        perMinute = null;
        error = "";
        var text = RateLimit.Trim();
        if (text.Length == 0)
        {
            return true;
        }

        var range = $"from {MinRateLimit} to {maxRateLimit.ToString("N0", CultureInfo.InvariantCulture)}";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < MinRateLimit)
        {
            error = $"Enter a whole number of requests per minute {range}, or leave it empty for the default.";
            return false;
        }

        if (value > maxRateLimit)
        {
            error = $"Keys here may make at most {maxRateLimit.ToString("N0", CultureInfo.InvariantCulture)} requests per minute: enter a number {range}, or leave it empty for the default.";
            return false;
        }

        perMinute = value;
        return true;
    }
}
