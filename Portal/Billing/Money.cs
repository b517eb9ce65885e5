namespace Portal;

/// <summary>
/// Money is <c>long</c> micro-dollars (1e-6 USD) everywhere (ADR 3); decimal USD only at the edges
/// (API JSON, forms, CLI).
/// </summary>
public static class Money
{
    public const long MicrosPerUsd = 1_000_000;

    public static long FromUsd(decimal usd) => checked((long)decimal.Round(usd * MicrosPerUsd, 0, MidpointRounding.AwayFromZero));

    public static decimal ToUsd(long micros) => micros / (decimal)MicrosPerUsd;

    /// <summary>
    /// ADR 3: <c>ceil((prompt × input_price + completion × output_price) / 1e6)</c> micro-dollars,
    /// prices in micro-dollars per 1M tokens.
    /// </summary>
    public static long Cost(long promptTokens, long completionTokens, long inputPriceMicros, long outputPriceMicros)
    {
        var scaled = checked((Int128)promptTokens * inputPriceMicros + (Int128)completionTokens * outputPriceMicros);
        return (long)((scaled + 999_999) / 1_000_000);
    }

    public static string Format(long micros) => ToUsd(micros).ToString("$#,0.00####", System.Globalization.CultureInfo.InvariantCulture);
}
