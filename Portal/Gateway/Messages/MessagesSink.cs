using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Messages;

/// <summary>
/// Delivers a chat completion run as the Messages API answers (ADR 30): a whole reply as an Anthropic
/// message; a stream as its named events — <c>message_start</c>, per block <c>content_block_start</c>,
/// <c>content_block_delta</c>s and <c>content_block_stop</c>, then <c>message_delta</c> with the stop
/// reason and Portal's settled usage, <c>message_stop</c> — with <c>ping</c> events while the upstream is
/// silent; errors in Anthropic's envelope (<see cref="MessagesErrors"/>).
/// </summary>
/// <param name="model">The model as the client named it, echoed in the reply.</param>
public sealed class MessagesSink(HttpResponse response, string id, string model) : ICompletionSink
{
    private enum Block
    {
        None,
        Text,
        Thinking,
        ToolUse,
    }

    private readonly SseWriter _sse = new(response);
    private bool _messageStarted;
    private Block _block;
    private int _blockIndex = -1;
    private int _toolIndex = -1; // the chat tool call the open tool_use block is
    private string? _toolId;
    private string? _finishReason;
    private ChatUsage? _usage;
    // From an upstream that speaks Messages (ADR 35): its message_delta's delta and usage, held back until
    // Portal's settled usage can be written with them; and the tokens it wrote to its cache.
    private bool _native;
    private JsonNode? _nativeDelta;
    private JsonObject? _nativeUsage;
    private long _cacheCreation;

    public bool Started => response.HasStarted;

    public async Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        if (chunk.Choices.Count == 0)
        {
            _usage = chunk.Usage ?? _usage; // Portal's settled usage, asked for by the translation
            return;
        }

        foreach (var choice in chunk.Choices.Where(c => c.Index == 0))
        {
            var delta = choice.Delta;
            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                await OpenAsync(Block.Thinking, new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" }, cancellationToken);
                await DeltaAsync(new JsonObject { ["type"] = "thinking_delta", ["thinking"] = delta.ReasoningContent }, cancellationToken);
            }

            if (!string.IsNullOrEmpty(delta.Content))
            {
                await OpenAsync(Block.Text, new JsonObject { ["type"] = "text", ["text"] = "" }, cancellationToken);
                await DeltaAsync(new JsonObject { ["type"] = "text_delta", ["text"] = delta.Content }, cancellationToken);
            }

            foreach (var call in delta.ToolCalls ?? [])
            {
                // A new call has a new index, or (from providers that number every call 0) a new id.
                if (_block != Block.ToolUse || call.Index != _toolIndex || (call.Id is not null && call.Id != _toolId))
                {
                    (_toolIndex, _toolId) = (call.Index, call.Id);
                    await OpenAsync(Block.ToolUse, MessagesReply.ToolUse(call.Id ?? "", call.Function?.Name ?? "", []), cancellationToken, force: true);
                }

                if (!string.IsNullOrEmpty(call.Function?.Arguments))
                {
                    await DeltaAsync(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = call.Function.Arguments }, cancellationToken);
                }
            }

            _finishReason = choice.FinishReason ?? _finishReason;
        }
    }

    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await WriteEventAsync("ping", new JsonObject { ["type"] = "ping" }, cancellationToken);
    }

    public async Task DoneAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        if (_native)
        {
            await WriteEventAsync("message_delta", new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = _nativeDelta ?? new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
                ["usage"] = SettledUsage(_nativeUsage, _usage),
            }, cancellationToken);
            await WriteEventAsync("message_stop", new JsonObject { ["type"] = "message_stop" }, cancellationToken);
            return;
        }

        await CloseBlockAsync(cancellationToken);
        await WriteEventAsync("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = MessagesReply.StopReason(_finishReason), ["stop_sequence"] = null },
            ["usage"] = MessagesReply.Usage(_usage),
        }, cancellationToken);
        await WriteEventAsync("message_stop", new JsonObject { ["type"] = "message_stop" }, cancellationToken);
    }

    public async Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        var reply = JsonSerializer.SerializeToUtf8Bytes(MessagesReply.Message(id, model, json.Span), Wire.Json);
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = reply.Length;
        await response.Body.WriteAsync(reply, cancellationToken);
    }

    /// <summary>
    /// The provider's own Messages reply, relayed as it wrote it (ADR 35) but for what Portal owns: the
    /// message's <c>id</c> and <c>model</c> (the name the client sent, ADR 30) and the usage, which is
    /// Portal's settled count. Stream events pass byte for byte, except <c>message_start</c> (id and
    /// model) and <c>message_delta</c>, which waits for settlement (<see cref="DoneAsync"/>).
    /// </summary>
    public async Task NativeAsync(NativeEvent native, ChatUsage? settled, CancellationToken cancellationToken)
    {
        _native = true;
        switch (native.Type)
        {
            case "message" when settled is not null:
                var reply = Parsed(native);
                var usage = reply["usage"] as JsonObject;
                NoteCacheCreation(usage);
                reply["id"] = id;
                reply["model"] = model;
                reply["usage"] = SettledUsage(usage, settled);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(reply, Wire.Json);
                response.ContentType = "application/json; charset=utf-8";
                response.ContentLength = bytes.Length;
                await response.Body.WriteAsync(bytes, cancellationToken);
                return;
            case "message":
                await StreamWholeAsync(Parsed(native), cancellationToken);
                return;
            case "message_start":
                var start = Parsed(native);
                if (start["message"] is JsonObject message)
                {
                    NoteCacheCreation(message["usage"] as JsonObject);
                    message["id"] = id;
                    message["model"] = model;
                }

                _messageStarted = true; // the provider's, not Portal's
                await StartAsync(cancellationToken);
                await WriteEventAsync("message_start", start, cancellationToken);
                return;
            case "message_delta":
                var delta = Parsed(native);
                _nativeDelta = delta["delta"]?.DeepClone();
                if (delta["usage"] is JsonObject reported)
                {
                    NoteCacheCreation(reported);
                    _nativeUsage = (JsonObject)reported.DeepClone();
                }

                return;
            default:
                await StartAsync(cancellationToken);
                await _sse.WriteEventAsync(native.Type, native.Json, cancellationToken);
                return;
        }
    }

    /// <summary>A provider that answered a stream with one reply: the events that say the same.</summary>
    private async Task StreamWholeAsync(JsonObject whole, CancellationToken cancellationToken)
    {
        var usage = whole["usage"] as JsonObject;
        NoteCacheCreation(usage);
        _nativeUsage = usage?.DeepClone() as JsonObject;
        _nativeDelta = new JsonObject { ["stop_reason"] = whole["stop_reason"]?.DeepClone(), ["stop_sequence"] = whole["stop_sequence"]?.DeepClone() };
        var content = whole["content"] as JsonArray ?? [];
        var head = (JsonObject)whole.DeepClone();
        (head["id"], head["model"], head["content"], head["stop_reason"], head["stop_sequence"]) = (id, model, new JsonArray(), null, null);
        _messageStarted = true;
        await StartAsync(cancellationToken);
        await WriteEventAsync("message_start", new JsonObject { ["type"] = "message_start", ["message"] = head }, cancellationToken);
        for (var index = 0; index < content.Count; index++)
        {
            await WriteEventAsync("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = index, ["content_block"] = content[index]?.DeepClone() }, cancellationToken);
            await WriteEventAsync("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }, cancellationToken);
        }
    }

    private static JsonObject Parsed(NativeEvent native) => JsonNode.Parse(native.Json) as JsonObject ?? [];

    private void NoteCacheCreation(JsonObject? usage)
    {
        if (usage?["cache_creation_input_tokens"] is JsonValue value && value.TryGetValue<long>(out var tokens))
        {
            _cacheCreation = Math.Max(tokens, 0);
        }
    }

    /// <summary>
    /// The provider's usage object with its counts replaced by the ones Portal charged: the input split as
    /// the provider split it (cache reads, cache writes, the rest), so the sum is the prompt Portal billed.
    /// Its other fields (a server tool's use, a service tier) stay as it wrote them.
    /// </summary>
    private JsonObject SettledUsage(JsonObject? provider, ChatUsage? settled)
    {
        var usage = provider is null ? [] : (JsonObject)provider.DeepClone();
        var prompt = (long)(settled?.PromptTokens ?? 0);
        var read = Math.Clamp(settled?.PromptTokensDetails?.CachedTokens ?? 0, 0, Math.Max(prompt, 0));
        var written = Math.Clamp(_cacheCreation, 0, Math.Max(prompt - read, 0));
        usage["input_tokens"] = prompt - read - written;
        usage["cache_creation_input_tokens"] = written;
        usage["cache_read_input_tokens"] = read;
        usage["output_tokens"] = settled?.CompletionTokens ?? 0;
        return usage;
    }

    public void TokenLimit(RateLimits.TokenDecision decision) => RateLimits.TokenLimits.WriteHeaders(response, decision);

    public async Task ErrorAsync(ApiError error)
    {
        if (!Started)
        {
            await MessagesErrors.WriteAsync(error, response);
            return;
        }

        try
        {
            await _sse.WriteEventAsync("error", MessagesErrors.Envelope(error), CancellationToken.None);
        }
        catch (IOException)
        {
            // The client is gone as well; the settlement already stands.
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Started)
        {
            await _sse.StartAsync(cancellationToken);
        }

        if (!_messageStarted)
        {
            _messageStarted = true;
            await WriteEventAsync("message_start", new JsonObject { ["type"] = "message_start", ["message"] = MessagesReply.Head(id, model) }, cancellationToken);
        }
    }

    private async Task OpenAsync(Block kind, JsonObject block, CancellationToken cancellationToken, bool force = false)
    {
        if (_block == kind && !force)
        {
            return;
        }

        await CloseBlockAsync(cancellationToken);
        _block = kind;
        _blockIndex++;
        await WriteEventAsync("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = _blockIndex, ["content_block"] = block }, cancellationToken);
    }

    private Task DeltaAsync(JsonObject delta, CancellationToken cancellationToken) =>
        WriteEventAsync("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = _blockIndex, ["delta"] = delta }, cancellationToken);

    private async Task CloseBlockAsync(CancellationToken cancellationToken)
    {
        if (_block == Block.None)
        {
            return;
        }

        _block = Block.None;
        await WriteEventAsync("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = _blockIndex }, cancellationToken);
    }

    private Task WriteEventAsync(string name, JsonObject data, CancellationToken cancellationToken) =>
        _sse.WriteEventAsync(name, JsonSerializer.SerializeToUtf8Bytes(data, Wire.Json), cancellationToken);
}
