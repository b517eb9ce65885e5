using System.Globalization;

namespace Portal.Usage;

/// <summary>
/// The value axis of a daily column chart: from zero to a round figure at or above the biggest day,
/// in a few round steps (1, 2 or 5 × 10ⁿ units), so that days of a fraction of a cent get ticks such
/// as $0.0005 rather than a lone "$0" (MudChart is given the step; DailyUsageChart).
/// </summary>
public sealed record ChartAxis(double Max, double Step)
{
    /// <param name="biggest">The biggest day, in whole units (micro-dollars, tokens, requests).</param>
    /// <param name="unit">What one unit is on the axis: 0.000001 for micro-dollars shown as dollars.</param>
    /// <returns>Null when every day is zero: the chart's own empty axis is fine then.</returns>
    public static ChartAxis? UpTo(long biggest, decimal unit = 1)
    {
        if (biggest <= 0)
        {
            return null;
        }

        var step = RoundStep(biggest / 3d);
        var max = (biggest + step - 1) / step * step;
        return new ChartAxis((double)(max * unit), (double)(step * unit));
    }

    /// <summary>A dollar tick with the digits that matter for fractions of a cent ("$0.0005", not "$0.00").</summary>
    public static string Usd(object value) =>
        Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("$#,0.######", CultureInfo.InvariantCulture);

    /// <summary>The smallest of 1, 2, 5, 10, 20, 50… units at or above <paramref name="rough"/>.</summary>
    private static long RoundStep(double rough)
    {
        var power = (long)Math.Pow(10, Math.Max(0, Math.Floor(Math.Log10(rough))));
        var fraction = rough / power;
        return power * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
    }
}
