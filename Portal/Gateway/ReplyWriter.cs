using System.Buffers;
using System.Text.Json;

namespace Portal.Gateway;

/// <summary>
/// Writes one request's replies as the client receives them (ADR 24): Portal's <c>id</c>,
/// <c>object</c>, <c>created</c> and <c>model</c> (and the client's <c>request_id</c>, echoed), then
/// every other member the provider wrote, copied as it wrote it. The head is made once per request;
/// a relayed chunk is then three copies, not a serialisation.
/// </summary>
internal sealed class ReplyWriter
{
    private readonly byte[] _chunkHead;
    private readonly byte[] _completionHead;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly string _id;
    private readonly long _created;
    private readonly string _model;
    private readonly string? _requestId;

    public ReplyWriter(string id, long created, string model, string? requestId)
    {
        (_id, _created, _model, _requestId) = (id, created, model, requestId);
        _chunkHead = Head("chat.completion.chunk");
        _completionHead = Head("chat.completion");
    }

    /// <summary>A streamed chunk, without usage (Portal's follows settlement). Valid until the next call.</summary>
    public ReadOnlyMemory<byte> Chunk(UpstreamChunk chunk)
    {
        if (chunk.Members is not { } members || chunk.Whole)
        {
            // Made by Portal (the simulated upstream), or a whole reply from a provider that ignored stream=true.
            return Serialize(new ChatChunk { Id = _id, Created = _created, Model = _model, RequestId = _requestId, Choices = chunk.Facts.Choices });
        }

        _buffer.ResetWrittenCount();
        _buffer.Write(_chunkHead);
        if (members.Length > 0)
        {
            _buffer.Write(","u8);
            _buffer.Write(members);
        }

        _buffer.Write("}"u8);
        return _buffer.WrittenMemory;
    }

    /// <summary>The last chunk of a stream when the client asked for usage: no choices, Portal's usage.</summary>
    public ReadOnlyMemory<byte> UsageChunk(ChatUsage usage, byte[]? reported)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write(_chunkHead);
        _buffer.Write(""","choices":[],"usage":"""u8);
        WriteUsage(usage, reported);
        _buffer.Write("}"u8);
        return _buffer.WrittenMemory;
    }

    /// <summary>A non-streamed reply: the provider's, as it sent it, or one assembled from chunks.</summary>
    public ReadOnlyMemory<byte> Completion(UpstreamChunk? whole, Func<IReadOnlyList<CompletionChoice>> assembled, ChatUsage usage, byte[]? reported)
    {
        if (whole is not { Members: { } members, Whole: true })
        {
            return Serialize(new ChatCompletion { Id = _id, Created = _created, Model = _model, RequestId = _requestId, Choices = assembled(), Usage = usage });
        }

        _buffer.ResetWrittenCount();
        _buffer.Write(_completionHead);
        if (members.Length > 0)
        {
            _buffer.Write(","u8);
            _buffer.Write(members);
        }

        _buffer.Write(""","usage":"""u8);
        WriteUsage(usage, reported);
        _buffer.Write("}"u8);
        return _buffer.WrittenMemory;
    }

    /// <summary>
    /// Portal's usage: its token counts and cost first, then every other field of the provider's
    /// <c>usage</c> (token details, cache and search counts…) as the provider wrote it.
    /// </summary>
    private void WriteUsage(ChatUsage usage, byte[]? reported)
    {
        using var json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = Wire.Json.Encoder, SkipValidation = true });
        if (reported is null)
        {
            JsonSerializer.Serialize(json, usage, Wire.Json);
            return;
        }

        json.WriteStartObject();
        json.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        json.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        json.WriteNumber("total_tokens"u8, usage.TotalTokens);
        var reader = new Utf8JsonReader(reported);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var portals = reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("completion_tokens"u8)
                || reader.ValueTextEquals("total_tokens"u8) || reader.ValueTextEquals("cost"u8);
            var escapedName = reader.ValueIsEscaped ? reader.GetString() : null; // rare: written out again, escaped our way
            var name = reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (!portals)
            {
                if (escapedName is not null)
                {
                    json.WritePropertyName(escapedName);
                }
                else
                {
                    json.WritePropertyName(name);
                }

                json.WriteRawValue(reported.AsSpan(start, (int)reader.BytesConsumed - start), skipInputValidation: true);
            }
        }

        if (usage.Cost is { } cost)
        {
            json.WriteNumber("cost"u8, cost);
        }

        json.WriteEndObject();
    }

    private ReadOnlyMemory<byte> Serialize<T>(T reply)
    {
        _buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = Wire.Json.Encoder }))
        {
            JsonSerializer.Serialize(json, reply, Wire.Json);
        }

        return _buffer.WrittenMemory;
    }

    private byte[] Head(string kind)
    {
        var head = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(head, new JsonWriterOptions { Encoder = Wire.Json.Encoder }))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, _id);
            json.WriteString("object"u8, kind);
            json.WriteNumber("created"u8, _created);
            json.WriteString("model"u8, _model);
            if (_requestId is not null)
            {
                json.WriteString("request_id"u8, _requestId);
            }

            json.WriteEndObject();
        }

        return head.WrittenSpan[..^1].ToArray(); // without the closing brace: members follow
    }
}
