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

    /// <summary>
    /// ADR 25: as above, with the prompt's cached tokens at their own price:
    /// <c>ceil(((prompt − cached) × input + cached × cached_input + completion × output) / 1e6)</c>.
    /// Cached tokens are a part of the prompt, so a count outside 0…prompt (an upstream can report
    /// anything) is clamped into it.
    /// </summary>
    public static long Cost(long promptTokens, long cachedTokens, long completionTokens, long inputPriceMicros, long cachedInputPriceMicros, long outputPriceMicros)
    {
        var cached = Math.Clamp(cachedTokens, 0, Math.Max(promptTokens, 0));
        var scaled = checked((Int128)(promptTokens - cached) * inputPriceMicros + (Int128)cached * cachedInputPriceMicros
            + (Int128)completionTokens * outputPriceMicros);
        return (long)((scaled + 999_999) / 1_000_000);
    }

    public static string Format(long micros) => ToUsd(micros).ToString("$#,0.00####", System.Globalization.CultureInfo.InvariantCulture);
}
