using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.Catalog;

namespace Portal.Gateway;

/// <summary>
/// What a provider said when it answered with an error status: OpenAI's envelope
/// (<c>{"error":{"message","type","code","param"}}</c>), or the same fields at the top level as vLLM and
/// others send them. Only the body's first <see cref="BodyBytes"/> are read (ADR 16); every field is
/// cleaned before it reaches a client or a log (ADR 21).
/// </summary>
internal sealed partial record ProviderError(string? Message, string? Type, string? Code, string? Param)
{
    /// <summary>How much of an error body is read: providers' error envelopes are a few hundred bytes.</summary>
    public const int BodyBytes = 64 * 1024;

    /// <summary>A relayed message is cut here; context-length and content-policy messages are far shorter.</summary>
    public const int MaxMessageChars = 1000;

    private const int MaxParamChars = 128;

    private static readonly ProviderError None = new(null, null, null, null);

    /// <summary>
    /// Reads the body's first <see cref="BodyBytes"/> within <paramref name="timeout"/>; the rest is dropped
    /// with the response, so a provider cannot make Portal buffer (or wait for) a body of any size.
    /// </summary>
    public static async Task<ProviderError> ReadAsync(HttpResponseMessage response, CancellationToken timeout)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BodyBytes);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(timeout);
            var length = await body.ReadAtLeastAsync(buffer.AsMemory(0, BodyBytes), BodyBytes, throwOnEndOfStream: false, timeout);
            return Parse(buffer.AsSpan(0, length), whole: length < BodyBytes);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // No detail: a client that left is noticed by the caller's next step.
            return None;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The fields, read as far as the body has arrived: what comes before a cut is still found.</summary>
    public static ProviderError Parse(ReadOnlySpan<byte> json, bool whole)
    {
        string? message = null, type = null, code = null, param = null;
        string? topMessage = null, topType = null, topCode = null, topParam = null;
        var reader = new Utf8JsonReader(json, isFinalBlock: whole, state: default);
        try
        {
            var inError = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    inError = reader.ValueTextEquals("error"u8);
                    if (inError)
                    {
                        if (!reader.Read())
                        {
                            break;
                        }

                        if (reader.TokenType == JsonTokenType.String)
                        {
                            message = reader.GetString(); // {"error": "…"}
                        }
                        else if (reader.TokenType != JsonTokenType.StartObject && !reader.TrySkip())
                        {
                            break; // cut off inside it
                        }

                        continue;
                    }

                    Field(ref reader, ref topMessage, ref topType, ref topCode, ref topParam);
                }
                else if (inError && reader.CurrentDepth == 2)
                {
                    Field(ref reader, ref message, ref type, ref code, ref param);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON, or cut off: what was read so far stands.
        }

        return message is null && type is null && code is null
            ? new ProviderError(topMessage, topType, topCode, topParam)
            : new ProviderError(message, type, code, param);
    }

    private static void Field(ref Utf8JsonReader reader, ref string? message, ref string? type, ref string? code, ref string? param)
    {
        ref string? target = ref message;
        if (reader.ValueTextEquals("message"u8))
        {
            target = ref message;
        }
        else if (reader.ValueTextEquals("type"u8))
        {
            target = ref type;
        }
        else if (reader.ValueTextEquals("code"u8))
        {
            target = ref code;
        }
        else if (reader.ValueTextEquals("param"u8))
        {
            target = ref param;
        }
        else
        {
            return;
        }

        if (!reader.Read())
        {
            return;
        }

        target = reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            // Some providers send numeric codes (vLLM: the HTTP status, Zhipu: 1261).
            JsonTokenType.Number => reader.TryGetInt64(out var n) ? n.ToString(CultureInfo.InvariantCulture) : null,
            _ => target,
        };
    }

    /// <summary>
    /// The same fields with nothing secret left: the upstream's key, its base URL and host, URL
    /// credentials and anything key-like are replaced; <c>type</c> and <c>code</c> must be identifiers
    /// (else dropped), and lengths are bounded.
    /// </summary>
    public ProviderError Cleaned(UpstreamInfo upstream, string? apiKey) => new(
        Bounded(Redact(Message, upstream, apiKey), MaxMessageChars),
        Identifier(Type),
        Identifier(Code),
        Bounded(Redact(Param, upstream, apiKey), MaxParamChars));

    /// <summary>The message for an error Portal words itself: ": message" or nothing, short, as before ADR 21.</summary>
    public string Detail() =>
        string.IsNullOrWhiteSpace(Message) ? "" : ": " + (Message.Length > 300 ? Message[..300] + "…" : Message);

    /// <summary>
    /// The provider refused the request itself (ADR 21): the client gets the provider's words under
    /// <paramref name="status"/>; usage records and logs keep its code, else its type.
    /// </summary>
    public ApiError Relay(int status, int providerStatus) => new(
        status,
        Code ?? Type ?? "invalid_request_error",
        Type ?? "invalid_request_error",
        string.IsNullOrWhiteSpace(Message) ? $"The model's provider refused the request (HTTP {providerStatus})." : Message,
        Param)
    {
        Relayed = true,
        RelayedCode = Code,
    };

    private static string? Redact(string? text, UpstreamInfo upstream, string? apiKey)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        if (apiKey is { Length: >= 4 })
        {
            text = text.Replace(apiKey, "[redacted]", StringComparison.Ordinal);
        }

        var baseUrl = upstream.BaseUrl.TrimEnd('/');
        text = text.Replace(baseUrl, "[upstream]", StringComparison.OrdinalIgnoreCase);
        if (Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Host.Length > 0)
        {
            text = text.Replace(uri.Host, "[upstream]", StringComparison.OrdinalIgnoreCase);
        }

        text = UrlCredentials().Replace(text, "://[redacted]@");
        return KeyLike().Replace(text, "[redacted]");
    }

    private static string? Bounded(string? text, int max) =>
        text is null || text.Length <= max ? text : text[..max] + "…";

    private static string? Identifier(string? value) =>
        value is not null && IdentifierPattern().IsMatch(value) ? value : null;

    [GeneratedRegex(@"(sk|pk|rk|key|token|bearer)[-_ :=]*[A-Za-z0-9._\-]{8,}|[A-Za-z0-9_\-]{32,}", RegexOptions.IgnoreCase)]
    private static partial Regex KeyLike();

    [GeneratedRegex(@"://[^\s/@]+@")]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]{1,64}$")]
    private static partial Regex IdentifierPattern();
}
