using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Portal.Catalog;
using Portal.Gateway.Messages;

namespace Portal.Gateway;

/// <summary>
/// Reads one provider reply chunk by chunk. Every read must arrive within the upstream's timeout, so
/// a provider that sends headers and then stalls is cut off like one that never answers. A reply is
/// read only up to <see cref="GatewayOptions.MaxUpstreamReplyBytes"/>, an event up to
/// <see cref="GatewayOptions.MaxUpstreamEventBytes"/>, so no provider can make Portal buffer more.
/// A reply that arrived but cannot be used is not retryable: the provider has billed for it.
/// </summary>
/// <param name="native">The reply is Anthropic's Messages API's (ADR 35), not chat completions'.</param>
internal sealed class UpstreamReader(HttpResponseMessage response, UpstreamInfo upstream, GatewayOptions options, ILogger logger, bool native = false) : IDisposable
{
    private readonly NativeMessagesJson? _native = native ? new NativeMessagesJson() : null;
    private PipeReader? _body;
    private CancellationTokenSource? _timeout;
    private bool _finished;

    /// <summary>The next chunk, or null once the provider said <c>[DONE]</c> (Messages: <c>message_stop</c>).</summary>
    public async Task<UpstreamChunk?> NextAsync(CancellationToken cancellationToken)
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
                    // The bytes that arrive are counted whatever Content-Length says (chunked replies have
                    // none, and the handler reads only as far as the header says anyway); an announced
                    // length past the limit only fails sooner.
                    _finished = true;
                    if (response.Content.Headers.ContentLength > options.MaxUpstreamReplyBytes)
                    {
                        throw ReplyTooLarge();
                    }

                    return await ReadWholeAsync(new CappedStream(stream, options.MaxUpstreamReplyBytes, ReplyTooLarge), timeout.Token);
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

    private async Task<UpstreamChunk?> NextEventAsync(PipeReader body, CancellationToken cancellationToken)
    {
        // Lines are read and parsed as UTF-8 bytes, as they arrive: no string per line, no transcoding.
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            while (TryReadLine(ref buffer, read.IsCompleted, out var line))
            {
                if (line.Length > options.MaxUpstreamEventBytes)
                {
                    throw EventTooLarge();
                }

                if (TryReadEvent(line, out var chunk))
                {
                    body.AdvanceTo(buffer.Start); // the rest may hold whole events: not yet examined
                    return chunk;
                }
            }

            // What is left is a line that has not ended yet: the pipe keeps it whole, so it is bounded here.
            if (buffer.Length > options.MaxUpstreamEventBytes)
            {
                throw EventTooLarge();
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
    private bool TryReadEvent(ReadOnlySequence<byte> sequence, out UpstreamChunk? chunk)
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
            if (_native is not null)
            {
                chunk = _native.ReadEvent(data, out var end);
                _finished = end;
                return end || chunk is not null;
            }

            chunk = UpstreamJson.Read(data, whole: false);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            logger.LogWarning("Upstream {UpstreamId} sent an event that is not a chat chunk", upstream.Id);
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed event."), retryable: false);
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

    private async Task<UpstreamChunk> ReadWholeAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var bytes = new MemoryStream();
        await stream.CopyToAsync(bytes, cancellationToken);
        try
        {
            var json = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
            return _native is not null ? _native.ReadMessage(json) : UpstreamJson.Read(json, whole: true);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            logger.LogWarning("Upstream {UpstreamId} answered with a reply that is not a chat completion", upstream.Id);
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed reply."), retryable: false);
        }
    }

    private UpstreamException ReplyTooLarge()
    {
        logger.LogWarning("Upstream {UpstreamId} sent a reply larger than {Limit} bytes", upstream.Id, options.MaxUpstreamReplyBytes);
        return new UpstreamException(ApiError.Upstream($"The upstream's reply is larger than {Size(options.MaxUpstreamReplyBytes)}."), retryable: false);
    }

    private UpstreamException EventTooLarge()
    {
        logger.LogWarning("Upstream {UpstreamId} sent an event larger than {Limit} bytes", upstream.Id, options.MaxUpstreamEventBytes);
        return new UpstreamException(ApiError.Upstream($"The upstream sent an event larger than {Size(options.MaxUpstreamEventBytes)}."), retryable: false);
    }

    private static string Size(int bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MB"
        : bytes % 1024 == 0 ? $"{bytes / 1024} KB"
        : $"{bytes} bytes";

    /// <summary>Reads a reply and throws once more than <paramref name="limit"/> bytes of it have arrived.</summary>
    private sealed class CappedStream(Stream inner, int limit, Func<UpstreamException> tooLarge) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            _read += read;
            return _read > limit ? throw tooLarge() : read;
        }
    }
}
