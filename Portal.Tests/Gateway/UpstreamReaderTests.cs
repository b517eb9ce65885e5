using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

/// <summary>The upstream's event stream is read as bytes: line ends, a BOM and reads that split lines anywhere.</summary>
public sealed class UpstreamReaderTests
{
    private static readonly UpstreamInfo Upstream = new(1, "http://upstream.test/v1", "m", null, TimeSpan.FromSeconds(10));

    private static string Chunk(string content) =>
        $$$"""{"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"{{{content}}}"}}]}""";

    private static async Task<List<string?>> ReadAllAsync(string body, int bytesPerRead, GatewayOptions? options = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new TrickleStream(Encoding.UTF8.GetBytes(body), bytesPerRead)),
        };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        using var reader = new UpstreamReader(response, Upstream, options ?? new GatewayOptions(), NullLogger.Instance);
        var contents = new List<string?>();
        while (await reader.NextAsync(CancellationToken.None) is { } chunk)
        {
            contents.Add(chunk.Facts.Choices[0].Delta.Content);
        }

        return contents;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Events_are_read_whatever_the_line_ends_and_wherever_the_reads_split(int bytesPerRead)
    {
        var body = "\uFEFF: a comment\r\n"
            + "data: " + Chunk("crlf") + "\r\n\r\n"
            + "event: message\r"
            + "data:" + Chunk("lone cr") + "\r\r"
            + "data:  " + Chunk("lf, ünïcode") + "  \n\n"
            + "data: [DONE]";

        Assert.Equal(["crlf", "lone cr", "lf, ünïcode"], await ReadAllAsync(body, bytesPerRead));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task A_reply_cut_short_before_done_is_an_upstream_error(int bytesPerRead)
    {
        var error = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync("data: " + Chunk("a") + "\n\n", bytesPerRead));
        Assert.Contains("before finishing", error.Error.Message);
    }

    [Fact]
    public async Task An_event_that_is_not_a_chunk_is_an_upstream_error()
    {
        var error = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync("data: {not json\n\ndata: [DONE]\n\n", 4096));
        Assert.Contains("malformed event", error.Error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task An_event_is_read_up_to_the_limit_and_one_byte_more_is_an_upstream_error_not_to_retry(int bytesPerRead)
    {
        const int limit = 64 * 1024;
        var options = new GatewayOptions { MaxUpstreamEventBytes = limit };
        var padding = new string('x', limit - ("data: " + Chunk("")).Length);

        Assert.Equal([padding], await ReadAllAsync("data: " + Chunk(padding) + "\n\ndata: [DONE]\n\n", bytesPerRead, options));
        var error = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync("data: " + Chunk(padding + "x") + "\n\ndata: [DONE]\n\n", bytesPerRead, options));
        Assert.Equal(("The upstream sent an event larger than 64 KB.", false), (error.Error.Message, error.Retryable));
    }

    [Fact]
    public async Task A_reply_cut_short_is_an_error_to_retry_but_a_malformed_event_is_not()
    {
        // Cut short, the provider may not have finished (or billed); a malformed event came from one that did.
        var cut = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync("data: " + Chunk("a") + "\n\n", 4096));
        var malformed = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync("data: {not json\n\n", 4096));
        Assert.Equal((true, false), (cut.Retryable, malformed.Retryable));
    }

    [Fact]
    public void A_cr_at_the_end_of_what_arrived_waits_for_a_possible_lf()
    {
        var buffer = new ReadOnlySequence<byte>("data: x\r"u8.ToArray());
        Assert.False(UpstreamReader.TryReadLine(ref buffer, completed: false, out _));
        Assert.True(UpstreamReader.TryReadLine(ref buffer, completed: true, out var line));
        Assert.Equal("data: x", Encoding.UTF8.GetString(line.ToArray()));
        Assert.True(buffer.IsEmpty);
    }

    /// <summary>Hands out at most <c>bytesPerRead</c> bytes per read, as a slow network would.</summary>
    private sealed class TrickleStream(byte[] data, int bytesPerRead) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(bytesPerRead, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
