using System.Security.Cryptography;

namespace Portal.Gateway;

/// <summary>The id of one request: in the <c>x-request-id</c> header, the usage record and the ledger.</summary>
public static class RequestIds
{
    /// <summary>
    /// "req_" and 24 characters of 32 symbols (0-9, a-v, in that order): the time in milliseconds (50
    /// bits), then 70 random bits from one call to the system's generator. Ids made later sort later,
    /// so the ledger's and usage records' request-id indexes grow at their right edge instead of
    /// taking each insert to a random page (a batch commit then writes a few pages, not one per
    /// request). RandomNumberGenerator.GetString is avoided: on .NET 8 it draws each character
    /// separately, 24 calls into OpenSSL.
    /// </summary>
    public static string New(TimeProvider time)
    {
        const string Symbols = "0123456789abcdefghijklmnopqrstuv";
        Span<char> id = stackalloc char[28];
        "req_".CopyTo(id);
        var millis = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 9; i >= 0; i--, millis >>= 5)
        {
            id[4 + i] = Symbols[(int)(millis & 31)];
        }

        Span<byte> bits = stackalloc byte[10]; // 70 bits used, one spare byte so each read may take two
        RandomNumberGenerator.Fill(bits[..9]);
        for (var i = 0; i < 14; i++)
        {
            var at = 5 * i; // character i takes bits 5i to 5i+4
            var pair = bits[at / 8] | bits[at / 8 + 1] << 8;
            id[14 + i] = Symbols[(pair >> (at % 8)) & 31];
        }

        return new string(id);
    }

    /// <summary>The id <see cref="GatewayErrors"/> gave this <c>/api/v1</c> request (a new one elsewhere).</summary>
    public static string RequestId(this HttpContext http) =>
        http.Features.Get<RequestIdFeature>()?.Id ?? New(http.RequestServices.GetRequiredService<TimeProvider>());

    /// <summary>Gives the request its id, for <see cref="RequestId"/>.</summary>
    internal static void SetRequestId(this HttpContext http, string id) => http.Features.Set(new RequestIdFeature(id));

    private sealed record RequestIdFeature(string Id);
}
