using System.Globalization;
using System.Text;
using Portal.Billing;

namespace Portal.Codes;

/// <summary>The one file a batch's codes are handed out in: one code per line with its value and expiry.</summary>
public static class CodesCsv
{
    public const string Header = "code,value_usd,expires_at_utc,batch\n";

    public static string FileNameOf(CodeBatch batch) => $"portal-codes-batch-{batch.Id}.csv";

    public static string Of(GeneratedBatch generated)
    {
        var batch = generated.Batch;
        var value = Money.ToUsd(batch.ValueMicros).ToString("0.00####", CultureInfo.InvariantCulture);
        var expires = batch.ExpiresAt?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "";
        var csv = new StringBuilder(Header, Header.Length + generated.Codes.Count * 64);
        foreach (var code in generated.Codes)
        {
            // Codes, numbers and dates only: nothing a spreadsheet could read as a formula.
            csv.Append(CultureInfo.InvariantCulture, $"{code},{value},{expires},{batch.Id}\n");
        }

        return csv.ToString();
    }
}
