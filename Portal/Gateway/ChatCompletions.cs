using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.ApiKeys;
using Portal.Billing;

namespace Portal.Gateway;

/// <summary><c>POST /api/v1/chat/completions</c>: reads the body and hands it to <see cref="ChatGateway"/>.</summary>
public static class ChatCompletions
{
    public const long MaxBodyBytes = 8 * 1024 * 1024;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static async Task HandleAsync(HttpContext http, CurrentApiKey current, ChatGateway gateway)
    {
        var key = current.Key;
        var body = await ReadJsonAsync(http.Request);
        await gateway.RunAsync(new Payer(key.UserId, key), body, http.RequestId(), new HttpCompletionSink(http.Response), http.RequestAborted);
    }

    /// <summary>
    /// JsonObject builds its dictionary lazily and throws on a repeated key wherever it is first
    /// read, and a string decodes its escapes only when it is read, throwing on an unpaired
    /// surrogate (<c>"\ud83d"</c>); reading every object (and, when the body has such escapes,
    /// every string) here turns either into one clear 400 instead of a failure later.
    /// </summary>
    private static void ReadThrough(JsonNode? node, bool strings)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    ReadThrough(value, strings);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    ReadThrough(item, strings);
                }

                break;
            case JsonValue value when strings && value.GetValueKind() == JsonValueKind.String:
                _ = value.GetValue<string>();
                break;
        }
    }

    /// <summary>Whether the body has a <c>\uD800</c>–<c>\uDFFF</c> escape (paired or not): only then can reading a string fail, so only then are strings read through.</summary>
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

    private static async Task<ChatBody> ReadJsonAsync(HttpRequest request)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return ChatBody.Unreadable(ApiError.UnsupportedMediaType());
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes));
        }

        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            if (buffer.Length > MaxBodyBytes)
            {
                return ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes));
            }

            return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ChatBody.Unreadable(ApiError.PayloadTooLarge(MaxBodyBytes));
        }
        catch (BadHttpRequestException e)
        {
            // The server could not read the body: broken chunked framing (400), too slow (408)…
            return ChatBody.Unreadable(ApiError.UnreadableBody(e.StatusCode, e.Message));
        }
    }

    private static ChatBody Parse(ReadOnlySpan<byte> bytes)
    {
        // The JSON reader checks UTF-8 only when a string is read, which would be deep in validation.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest("The body is not valid UTF-8."));
        }

        try
        {
            var body = JsonNode.Parse(bytes, documentOptions: DocumentOptions);
            ReadThrough(body, strings: HasSurrogateEscape(bytes));
            return new ChatBody(body, null, bytes.Length);
        }
        catch (InvalidOperationException)
        {
            // The only way a parsed body fails to read: a \u escape of half a surrogate pair.
            return ChatBody.Unreadable(ApiError.InvalidRequest("The body has a \\u escape of an unpaired surrogate (\\uD800–\\uDFFF without its other half); JSON text must be valid Unicode."));
        }
        catch (ArgumentException e) when (e.Message.Contains("same key", StringComparison.Ordinal))
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest("The JSON body gives the same key twice in one object."));
        }
        catch (JsonException e)
        {
            return ChatBody.Unreadable(ApiError.InvalidRequest($"The body is not valid JSON ({e.Message.Split(" Path:")[0]})."));
        }
    }
}
