namespace Portal.Billing;

/// <summary>
/// A DateTime as Microsoft.Data.Sqlite stores it, "yyyy-MM-dd HH:mm:ss.FFFFFFF" (the fraction's trailing
/// zeros dropped, and its point with it when it is zero; the kind ignored), written as UTF-8 without
/// parsing a format string on every call (issue 18). EF Core reads the ledger's dates back in this form.
/// </summary>
internal static class SqliteDate
{
    public const int MaxLength = 27; // "yyyy-MM-dd HH:mm:ss.fffffff"

    /// <summary>Writes the date into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes); returns the bytes written.</summary>
    public static int Format(DateTime time, Span<byte> destination)
    {
        var date = time.Date;
        Digits(destination[..4], date.Year);
        destination[4] = (byte)'-';
        Digits(destination.Slice(5, 2), date.Month);
        destination[7] = (byte)'-';
        Digits(destination.Slice(8, 2), date.Day);
        destination[10] = (byte)' ';
        Digits(destination.Slice(11, 2), time.Hour);
        destination[13] = (byte)':';
        Digits(destination.Slice(14, 2), time.Minute);
        destination[16] = (byte)':';
        Digits(destination.Slice(17, 2), time.Second);

        var fraction = (int)(time.Ticks % TimeSpan.TicksPerSecond);
        if (fraction == 0)
        {
            return 19;
        }

        destination[19] = (byte)'.';
        Digits(destination.Slice(20, 7), fraction);
        var length = 27;
        while (destination[length - 1] == (byte)'0')
        {
            length--;
        }

        return length;
    }

    /// <summary>The number in exactly the span's length of decimal digits, zero-padded.</summary>
    private static void Digits(Span<byte> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }
}
