using System.Globalization;
using Portal.Billing;

namespace Portal.Usage;

/// <summary>How the usage pages write numbers and times: invariant culture, UTC, units spelled out.</summary>
public static class Display
{
    public static string Count(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Day(DateTime utc) => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Duration(int? ms) => ms switch
    {
        null => "—",
        < 1000 => $"{ms.Value.ToString(CultureInfo.InvariantCulture)} ms",
        _ => (ms.Value / 1000d).ToString("0.00 's'", CultureInfo.InvariantCulture),
    };

    public static string Percent(double share) =>
        // 99.95% must not round up to a perfect 100.0%.
        (Math.Floor(share * 1000) / 10).ToString("0.0'%'", CultureInfo.InvariantCulture);

    public static string LedgerKindLabel(LedgerRow row) => row.Kind switch
    {
        LedgerKind.Grant when row.AmountMicros < 0 => "Deduction",
        LedgerKind.Grant => "Credit grant",
        LedgerKind.Hold => "Hold",
        LedgerKind.Release => "Hold released",
        LedgerKind.Charge => "Charge",
        _ => row.Kind,
    };

    /// <summary>A signed amount: "+$1.00", "−$0.000123".</summary>
    public static string Signed(long micros) => micros switch
    {
        > 0 => "+" + Money.Format(micros),
        < 0 => "−" + Money.Format(-micros),
        _ => Money.Format(0),
    };
}
