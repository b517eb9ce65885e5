using System.Text.Json;

namespace Portal.Gateway.Messages;

/// <summary>
/// Reads the reply of an upstream that speaks Anthropic's Messages API (ADR 35): each event, or the whole
/// message, is kept as the provider wrote it (<see cref="UpstreamChunk.Native"/>) for the client, and what
/// billing needs comes out typed as a chat chunk's facts — text, thinking and tool input as deltas of
/// choice 0 (so a cut-short stream is charged for what got through), and the usage, merged across
/// <c>message_start</c> and <c>message_delta</c> as Anthropic reports it. One instance per reply.
/// </summary>
internal sealed class NativeMessagesJson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };
    private long? _input;
    private long? _output;
    private long? _cacheRead;
    private long? _cacheCreation;

    /// <summary>
    /// One streamed event's data: its chunk; null for an event with nothing to relay (<c>ping</c>: Portal
    /// sends its own while the upstream is silent), and with <paramref name="end"/> for <c>message_stop</c>.
    /// </summary>
    /// <exception cref="JsonException">Not an event object.</exception>
    /// <exception cref="UpstreamException">The provider's <c>error</c> event.</exception>
    public UpstreamChunk? ReadEvent(ReadOnlySpan<byte> data, out bool end)
    {
        end = false;
        var json = data.ToArray(); // parsed, and kept for the client
        using var document = Parse(json);
        var root = document.RootElement;
        // The type names the SSE event the client gets: a provider's can't add lines to it.
        var type = TypeOf(root) is { Length: > 0 and <= 64 } named && named.All(c => c is (>= 'a' and <= 'z') or '_')
            ? named
            : throw new JsonException("An event without a type Anthropic's API would send.");
        List<ChunkChoice> choices = [];
        switch (type)
        {
            case "ping":
                return null;
            case "message_stop":
                end = true;
                return null;
            case "error":
                throw Failed(root);
            case "message_start":
                if (root.TryGetProperty("message"u8, out var message) && message.ValueKind == JsonValueKind.Object)
                {
                    Count(message);
                }

                break;
            case "message_delta":
                Count(root);
                break;
            case "content_block_start" when root.TryGetProperty("content_block"u8, out var block) && block.ValueKind == JsonValueKind.Object:
                Block(Index(root), block, choices);
                break;
            case "content_block_delta" when root.TryGetProperty("delta"u8, out var delta) && delta.ValueKind == JsonValueKind.Object:
                Delta(Index(root), delta, choices);
                break;
        }

        return new UpstreamChunk(Facts(choices), Native: new NativeEvent(type, json));
    }

    /// <summary>A non-streamed reply: the whole message.</summary>
    /// <exception cref="JsonException">Not a message (an error object answered with a 200, too).</exception>
    public UpstreamChunk ReadMessage(ReadOnlySpan<byte> reply)
    {
        var json = reply.ToArray();
        using var document = Parse(json);
        var root = document.RootElement;
        if (TypeOf(root) != "message" || !root.TryGetProperty("content"u8, out var content) || content.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("Not an Anthropic message: type or content is missing.");
        }

        Count(root);
        List<ChunkChoice> choices = [];
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind == JsonValueKind.Object)
            {
                Block(index, block, choices);
            }

            index++;
        }

        return new UpstreamChunk(Facts(choices), Whole: true, Native: new NativeEvent("message", json));
    }

    private static JsonDocument Parse(byte[] json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new JsonException("The reply is not UTF-8.");
        }

        var document = JsonDocument.Parse(json, Options);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new JsonException("Not a JSON object.");
        }

        return document;
    }

    private ChatChunk Facts(List<ChunkChoice> choices) => new() { Id = "", Created = 0, Model = "", Choices = choices, Usage = Usage() };

    /// <summary>
    /// The usage so far, as the pipeline bills it: the prompt is every input token — uncached, read from
    /// the provider's cache and written to it (Portal has no cache-write price: those are billed as
    /// input) — and the cached part is what was read. Null until the provider has reported any.
    /// </summary>
    private ChatUsage? Usage()
    {
        if (_input is null && _output is null && _cacheRead is null && _cacheCreation is null)
        {
            return null;
        }

        var read = Bounded(_cacheRead ?? 0);
        var prompt = Bounded((_input ?? 0) + read + (_cacheCreation ?? 0));
        var completion = Bounded(_output ?? 0);
        return new ChatUsage
        {
            PromptTokens = prompt,
            CompletionTokens = completion,
            TotalTokens = Bounded((long)prompt + completion),
            PromptTokensDetails = read > 0 ? new PromptTokensDetails { CachedTokens = read } : null,
        };
    }

    private static int Bounded(long tokens) => (int)Math.Clamp(tokens, 0, int.MaxValue);

    /// <summary>Takes the counts an object's <c>usage</c> has; a later report replaces an earlier one field by field.</summary>
    private void Count(JsonElement owner)
    {
        if (!owner.TryGetProperty("usage"u8, out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        _input = Number(usage, "input_tokens"u8) ?? _input;
        _output = Number(usage, "output_tokens"u8) ?? _output;
        _cacheRead = Number(usage, "cache_read_input_tokens"u8) ?? _cacheRead;
        _cacheCreation = Number(usage, "cache_creation_input_tokens"u8) ?? _cacheCreation;
    }

    private static long? Number(JsonElement usage, ReadOnlySpan<byte> name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? Math.Max(n, 0) : null;

    private static string? TypeOf(JsonElement element) =>
        element.TryGetProperty("type"u8, out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    private static int Index(JsonElement root) =>
        root.TryGetProperty("index"u8, out var index) && index.ValueKind == JsonValueKind.Number && index.TryGetInt32(out var i) ? i : 0;

    private static string? Text(JsonElement owner, ReadOnlySpan<byte> name) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A content block as it starts (streamed) or as a whole reply has it: the output it already holds.</summary>
    private static void Block(int index, JsonElement block, List<ChunkChoice> choices)
    {
        switch (TypeOf(block))
        {
            case "text" when Text(block, "text"u8) is { Length: > 0 } text:
                choices.Add(Choice(new ChatDelta { Content = text }));
                break;
            case "thinking" when Text(block, "thinking"u8) is { Length: > 0 } thinking:
                choices.Add(Choice(new ChatDelta { ReasoningContent = thinking }));
                break;
            case "tool_use":
                // A whole reply's input is complete; a streamed block's is {} and follows as input_json_delta.
                var input = block.TryGetProperty("input"u8, out var value) && value.ValueKind == JsonValueKind.Object && value.EnumerateObject().Any()
                    ? value.GetRawText()
                    : null;
                choices.Add(Choice(new ChatDelta
                {
                    ToolCalls = [new ToolCallDelta { Index = index, Id = Text(block, "id"u8), Function = new FunctionCallDelta { Name = Text(block, "name"u8), Arguments = input } }],
                }));
                break;
        }
    }

    private static void Delta(int index, JsonElement delta, List<ChunkChoice> choices)
    {
        switch (TypeOf(delta))
        {
            case "text_delta" when Text(delta, "text"u8) is { Length: > 0 } text:
                choices.Add(Choice(new ChatDelta { Content = text }));
                break;
            case "thinking_delta" when Text(delta, "thinking"u8) is { Length: > 0 } thinking:
                choices.Add(Choice(new ChatDelta { ReasoningContent = thinking }));
                break;
            case "input_json_delta" when Text(delta, "partial_json"u8) is { Length: > 0 } json:
                choices.Add(Choice(new ChatDelta { ToolCalls = [new ToolCallDelta { Index = index, Function = new FunctionCallDelta { Arguments = json } }] }));
                break;
        }
    }

    private static ChunkChoice Choice(ChatDelta delta) => new() { Index = 0, Delta = delta };

    /// <summary>
    /// The provider's <c>error</c> event. Its type is passed on (Anthropic's are a short fixed set); its message
    /// is not, as a provider's words are relayed only where they are cleaned of Portal's secrets (ADR 21).
    /// Before any output, an overloaded or failing provider is worth another attempt; nothing else is.
    /// </summary>
    private static UpstreamException Failed(JsonElement root)
    {
        var type = root.TryGetProperty("error"u8, out var error) && error.ValueKind == JsonValueKind.Object ? TypeOf(error) : null;
        var named = type is { Length: <= 64 } && type.All(c => c is (>= 'a' and <= 'z') or '_') ? type : "unknown";
        return new UpstreamException(ApiError.Upstream($"The upstream reported an error mid-reply ({named})."),
            retryable: named is "overloaded_error" or "api_error");
    }
}
