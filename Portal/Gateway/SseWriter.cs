using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Portal.Gateway;

/// <summary>
/// Writes a <c>text/event-stream</c>: one <c>data:</c> line per event, flushed at once so chunks
/// reach the client as they arrive, and comment lines to keep idle connections open. Named events
/// (<c>event:</c> then <c>data:</c>) are what the Messages and Responses front doors send.
/// </summary>
public sealed class SseWriter(HttpResponse response)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] NamedDataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public bool Started => response.HasStarted;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: relay, don't buffer
        await response.StartAsync(cancellationToken);
    }

    /// <summary>One event of JSON already written.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write(DataPrefix);
        writer.Write(json.Span);
        writer.Write(EventEnd);
        await writer.FlushAsync(cancellationToken);
    }

    public async Task WriteAsync<T>(T payload, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, payload, Wire.Json);
        }

        writer.Write(EventEnd);
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>Begins a named event; the caller writes its JSON to the writer returned, then calls <see cref="EndEvent"/>. Nothing is flushed.</summary>
    public IBufferWriter<byte> BeginEvent(string name)
    {
        var writer = response.BodyWriter;
        writer.Write(EventPrefix);
        Encoding.UTF8.GetBytes(name, writer);
        writer.Write(NamedDataPrefix);
        return writer;
    }

    public void EndEvent() => response.BodyWriter.Write(EventEnd);

    /// <summary>One named event of JSON already written, flushed.</summary>
    public async Task WriteEventAsync(string name, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        BeginEvent(name).Write(json.Span);
        EndEvent();
        await FlushAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken) => await response.BodyWriter.FlushAsync(cancellationToken);

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        await response.BodyWriter.WriteAsync(Done, cancellationToken);
    }

    public async Task WriteKeepAliveAsync(CancellationToken cancellationToken)
    {
        await response.BodyWriter.WriteAsync(KeepAlive, cancellationToken);
    }
}
