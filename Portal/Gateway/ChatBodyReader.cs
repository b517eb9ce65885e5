using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.Billing;

namespace Portal.Gateway;

/// <summary>
/// Reads a chat request's body in bounded memory (ADR 15): a body over <see cref="SmallBodyBytes"/>
/// is read only for an account with credit, and only while the <see cref="BodyBudget"/> has room;
/// its JSON is counted before it is parsed, so no body becomes a tree of more than
/// <see cref="GatewayOptions.MaxJsonValues"/> values or deeper than <see cref="MaxDepth"/>.
/// </summary>
public sealed class ChatBodyReader(BodyBudget budget, CreditsLedger ledger, IOptions<GatewayOptions> options)
{
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    /// <summary>Bodies up to this size are read without asking the budget or the balance: every-day requests cost nothing extra.</summary>
    public const int SmallBodyBytes = 64 * 1024;

    public const int MaxDepth = 64;

    private const int ChunkedStartBytes = 16 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>The body as JSON or why it was refused, and what it holds of the budget until the request ends (none for a small body).</summary>
    public async Task<(ChatBody Body, BodyBudget.Lease? Lease)> ReadAsync(HttpRequest request, string userId)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (ChatBody.Unreadable(ApiError.UnsupportedMediaType()), null);
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes)), null);
        }

        BodyBudget.Lease? lease = null;
        var declared = request.ContentLength;
        if (declared > SmallBodyBytes)
        {
            lease = new BodyBudget.Lease(budget);
            if (await RefuseLargeAsync(lease, declared.Value, userId) is { } refused)
            {
                return (ChatBody.Unreadable(refused), lease);
            }
        }

        var buffer = Rent((int)(declared ?? ChunkedStartBytes));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (declared is not null)
                    {
                        break; // the server never reads past Content-Length
                    }

                    // A chunked body outgrew its buffer: past the small size it asks, as a declared one does.
                    var grown = (int)Math.Min((long)buffer.Length * 2, MaxBodyBytes + 1);
                    if (grown > SmallBodyBytes)
                    {
                        lease ??= new BodyBudget.Lease(budget);
                        if (await RefuseLargeAsync(lease, grown - lease.Bytes, userId) is { } refused)
                        {
                            return (ChatBody.Unreadable(refused), lease);
                        }
                    }

                    var larger = Rent(grown);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > MaxBodyBytes)
                {
                    return (ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes)), lease);
                }
            }

            return (Parse(buffer.AsSpan(0, length), options.Value.MaxJsonValues), lease);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes)), lease);
        }
        catch (BadHttpRequestException e)
        {
            // The server could not read the body: broken chunked framing (400), too slow (408)…
            return (ChatBody.Unreadable(ApiError.UnreadableBody(e.StatusCode, e.Message)), lease);
        }
        finally
        {
            Return(buffer);
        }
    }

    /// <summary>
    /// Before a large body is read: the account must have credit (a $0 account's 8 MB costs no memory)
    /// and the budget room for it (a flood of large bodies waits instead of exhausting the process).
    /// </summary>
    private async Task<ApiError?> RefuseLargeAsync(BodyBudget.Lease lease, long bytes, string userId)
    {
        if (lease.Bytes == 0 && !await ledger.HasCreditAsync(userId))
        {
            return ApiError.InsufficientQuota(
                $"Your balance is empty: a request body over {SmallBodyBytes / 1024} KB is not read until the account has credits. Add credits.");
        }

        return budget.TryTake(lease, bytes) ? null : ApiError.Busy(SmallBodyBytes);
    }

    /// <summary>Small buffers come from the shared pool; large ones are allocated, so the pool never keeps megabytes an attack left behind.</summary>
    private static byte[] Rent(int size) => size <= SmallBodyBytes ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    private static void Return(byte[] buffer)
    {
        if (buffer.Length <= SmallBodyBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static ChatBody Parse(ReadOnlySpan<byte> bytes, int maxValues)
    {
        // The JSON reader checks UTF-8 only when a string is read, which would be deep in validation.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest("The body is not valid UTF-8."));
        }

        try
        {
            // A body of N bytes holds at most N / 2 + 1 values ("0,0,…"): only a large one needs counting.
            var hasSurrogateEscape = HasSurrogateEscape(bytes);
            if ((bytes.Length / 2 >= maxValues || hasSurrogateEscape) && Scan(bytes, maxValues, hasSurrogateEscape) > maxValues)
            {
                return ChatBody.Unreadable(ApiError.InvalidRequest(
                    $"The body has more than {maxValues:N0} JSON values; a chat request needs far fewer. Send long text as strings, not arrays."));
            }

            return new ChatBody(JsonNode.Parse(bytes, documentOptions: DocumentOptions), null, bytes.Length);
        }
        catch (InvalidOperationException)
        {
            // Reading a string throws only for a \u escape of half a surrogate pair.
            return ChatBody.Unreadable(ApiError.InvalidRequest("The body has a \\u escape of an unpaired surrogate (\\uD800–\\uDFFF without its other half); JSON text must be valid Unicode."));
        }
        catch (JsonException e) when (e.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest("The JSON body gives the same key twice in one object."));
        }
        catch (JsonException e)
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest($"The body is not valid JSON ({e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]})."));
        }
    }

    /// <summary>
    /// Counts the body's values (stopping past <paramref name="maxValues"/>) without building anything,
    /// and, when <paramref name="readStrings"/>, decodes each escaped string, which throws on an
    /// unpaired surrogate: JSON text must be Unicode, and a tree would throw only where it is read.
    /// </summary>
    private static int Scan(ReadOnlySpan<byte> bytes, int maxValues, bool readStrings)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = MaxDepth });
        var values = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    continue;
                case JsonTokenType.PropertyName or JsonTokenType.String when readStrings && reader.ValueIsEscaped:
                    _ = reader.GetString();
                    break;
            }

            if (reader.TokenType != JsonTokenType.PropertyName && ++values > maxValues)
            {
                break;
            }
        }

        return values;
    }

    /// <summary>Whether the body has a <c>\uD800</c>–<c>\uDFFF</c> escape (paired or not): only then can reading a string fail.</summary>
    private static bool HasSurrogateEscape(ReadOnlySpan<byte> bytes)
    {
        for (var at = bytes.IndexOf("\\u"u8); at >= 0; at = bytes.IndexOf("\\u"u8))
        {
            bytes = bytes[(at + 2)..];
            if (bytes.Length >= 2 && (bytes[0] | 0x20) == 'd' && (bytes[1] | 0x20) is (>= '8' and <= '9') or (>= 'a' and <= 'f'))
            {
                return true;
            }
        }

        return false;
    }
}
