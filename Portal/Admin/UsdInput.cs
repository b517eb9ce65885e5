using System.Globalization;

namespace Portal.Admin;

/// <summary>USD amounts as typed in admin forms: plain decimals with at most 6 places (micro-dollars).</summary>
public static class UsdInput
{
    /// <summary>The most any admin form accepts, so an extra zero is caught rather than stored.</summary>
    public const decimal MaxUsd = 1_000_000;

    public static bool TryParse(string? text, out long micros)
    {
        micros = 0;
        if (!decimal.TryParse(text?.Trim().TrimStart('$'), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var usd)
            || decimal.Round(usd, 6) != usd || Math.Abs(usd) > MaxUsd)
        {
            return false;
        }

        micros = Money.FromUsd(usd);
        return true;
    }

    /// <summary>Micro-dollars as an editable number: 2.5 rather than $2.50.</summary>
    public static string Format(long micros) => Money.ToUsd(micros).ToString("0.######", CultureInfo.InvariantCulture);
}
