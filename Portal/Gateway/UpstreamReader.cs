using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Portal.Catalog;

namespace Portal.Gateway;

/// <summary>
/// Reads one provider reply chunk by chunk. Every read must arrive within the upstream's timeout, so
/// a provider that sends headers and then stalls is cut off like one that never answers.
/// </summary>
internal sealed class UpstreamReader(HttpResponseMessage response, UpstreamInfo upstream, ILogger logger) : IDisposable
{
    private PipeReader? _body;
    private CancellationTokenSource? _timeout;
    private bool _finished;

    /// <summary>The next chunk, or null once the provider said <c>[DONE]</c>.</summary>
    public async Task<ChatChunk?> NextAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return null;
        }

        // One timer for the whole reply, re-armed per read: a fresh one per chunk cost more than the chunk.
        var timeout = _timeout ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(upstream.Timeout);
        try
        {
            if (_body is null)
            {
                var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                if (response.Content.Headers.ContentType?.MediaType == "application/json")
                {
                    // A non-streamed reply (or a provider that ignored stream=true): it becomes one chunk.
                    _finished = true;
                    return AsChunk(await DeserializeAsync(stream, timeout.Token));
                }

                _body = PipeReader.Create(stream);
            }

            return await NextEventAsync(_body, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamException(ApiError.UpstreamTimeout($"The upstream sent nothing for {upstream.Timeout.TotalSeconds:0} s."));
        }
        catch (IOException e)
        {
            throw new UpstreamException(ApiError.Upstream($"The upstream connection broke mid-reply ({e.GetType().Name})."));
        }
        finally
        {
            // Disarmed while the caller relays the chunk: only the upstream's silence is timed.
            timeout.CancelAfter(Timeout.Infinite);
        }
    }

    public void Dispose()
    {
        _body?.Complete();
        _timeout?.Dispose();
        response.Dispose();
    }

    private async Task<ChatChunk?> NextEventAsync(PipeReader body, CancellationToken cancellationToken)
    {
        // Lines are read and parsed as UTF-8 bytes, as they arrive: no string per line, no transcoding.
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            while (TryReadLine(ref buffer, read.IsCompleted, out var line))
            {
                if (TryReadEvent(line, out var chunk))
                {
                    body.AdvanceTo(buffer.Start); // the rest may hold whole events: not yet examined
                    return chunk;
                }
            }

            body.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                // No [DONE]: the reply was cut short somewhere between the provider and us.
                throw new UpstreamException(ApiError.Upstream("The upstream ended its reply before finishing it."));
            }
        }
    }

    /// <summary>True for a line with a chunk, or with <c>[DONE]</c> (the chunk null); false for other lines.</summary>
    private bool TryReadEvent(ReadOnlySequence<byte> sequence, out ChatChunk? chunk)
    {
        chunk = null;
        ReadOnlySpan<byte> line = sequence.IsSingleSegment ? sequence.FirstSpan : sequence.ToArray();
        if (line.StartsWith(Bom))
        {
            line = line[Bom.Length..];
        }

        if (!line.StartsWith("data:"u8))
        {
            return false; // comments, event names, blank separators
        }

        var data = line[5..].Trim(" \t\f\v"u8);
        if (data.SequenceEqual("[DONE]"u8))
        {
            _finished = true;
            return true;
        }

        try
        {
            chunk = JsonSerializer.Deserialize<ChatChunk>(data, Wire.Json);
            return chunk is not null;
        }
        catch (JsonException)
        {
            logger.LogWarning("Upstream {UpstreamId} sent an event that is not a chat chunk", upstream.Id);
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed event."));
        }
    }

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Takes one line off <paramref name="buffer"/>. Lines end with LF, CRLF or a lone CR (as SSE
    /// allows); a CR at the end of what has arrived waits for the next byte, which may be its LF.
    /// </summary>
    internal static bool TryReadLine(ref ReadOnlySequence<byte> buffer, bool completed, out ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadToAny(out line, "\r\n"u8, advancePastDelimiter: false))
        {
            reader.TryRead(out var end);
            if (end == (byte)'\r')
            {
                if (reader.End && !completed)
                {
                    line = default;
                    return false;
                }

                reader.IsNext((byte)'\n', advancePast: true);
            }

            buffer = buffer.Slice(reader.Position);
            return true;
        }

        if (completed && !buffer.IsEmpty)
        {
            line = buffer; // the last line, without an end
            buffer = buffer.Slice(buffer.End);
            return true;
        }

        line = default;
        return false;
    }

    private static async Task<ChatCompletion> DeserializeAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<ChatCompletion>(stream, Wire.Json, cancellationToken)
                ?? throw new UpstreamException(ApiError.Upstream("The upstream sent an empty reply."));
        }
        catch (JsonException)
        {
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed reply."));
        }
    }

    private static ChatChunk AsChunk(ChatCompletion completion) => new()
    {
        Id = completion.Id,
        Created = completion.Created,
        Model = completion.Model,
        Usage = completion.Usage,
        Choices = completion.Choices.Select(c => new ChunkChoice
        {
            Index = c.Index,
            FinishReason = c.FinishReason,
            Delta = new ChatDelta
            {
                Role = "assistant",
                Content = c.Message.Content,
                ReasoningContent = c.Message.ReasoningContent,
                ToolCalls = c.Message.ToolCalls?.Select((t, i) => new ToolCallDelta
                {
                    Index = i,
                    Id = t.Id,
                    Type = t.Type,
                    Function = new FunctionCallDelta { Name = t.Function.Name, Arguments = t.Function.Arguments },
                }).ToList(),
            },
        }).ToList(),
    };
}
