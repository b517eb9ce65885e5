using System.Globalization;
using System.Text;

using Portal.Billing;

namespace Portal.Usage;

/// <summary>
/// The requests export as CSV (RFC 4180: comma-separated, CRLF, quotes doubled). Text cells that a
/// spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading apostrophe,
/// because key names and error codes are text someone else may have chosen.
/// </summary>
public static class RequestsCsv
{
    public const string Header =
        "time_utc,request_id,model,key,prompt_tokens,completion_tokens,reasoning_tokens,cost_usd,latency_ms,time_to_first_token_ms,status,error_code,provenance,stream,requests,"
        + "cached_tokens,input_usd_per_1m,cached_input_usd_per_1m,output_usd_per_1m,end_user,api\r\n";

    public static string Line(RequestRow row)
    {
        var line = new StringBuilder(160);
        Append(line, Cell(row.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        Append(line, Cell(row.RequestId));
        Append(line, Cell(row.ModelId));
        Append(line, Cell(row.Source));
        Append(line, Number(row.PromptTokens));
        Append(line, Number(row.CompletionTokens));
        Append(line, Number(row.ReasoningTokens));
        // Exact micro-dollars as a decimal number, never a float.
        Append(line, Money.ToUsd(row.CostMicros).ToString("0.000000", CultureInfo.InvariantCulture));
        Append(line, Number(row.LatencyMs));
        Append(line, row.TimeToFirstTokenMs is { } ttft ? Number(ttft) : "");
        Append(line, Number(row.Status));
        Append(line, Cell(row.ErrorCode));
        Append(line, Cell(row.Provenance));
        Append(line, row.Stream ? "true" : "false");
        // Last, so the columns before it keep their places: more than 1 for refusals recorded together.
        Append(line, Number(row.Requests));
        // Added later, after it: the prices the record was charged at (cached tokens at their own, ADR 25) and the client's end user.
        Append(line, Number(row.CachedTokens));
        Append(line, Price(row.InputPriceMicros));
        Append(line, Price(row.CachedInputPriceMicros));
        Append(line, Price(row.OutputPriceMicros));
        Append(line, Cell(row.EndUser));
        line.Append(Cell(row.Api)).Append("\r\n");
        return line.ToString();
    }

    /// <summary>One text cell: formula guard first, then quoted if it holds a comma, quote or line break.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    private static string Price(long micros) => Money.ToUsd(micros).ToString("0.000000", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Append(StringBuilder line, string cell) => line.Append(cell).Append(',');
}
