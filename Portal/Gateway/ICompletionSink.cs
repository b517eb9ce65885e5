namespace Portal.Gateway;

/// <summary>
/// Where a completion's output goes: an HTTP response for the API, or the playground's component.
/// The pipeline (<see cref="ChatGateway"/>) decides what to send; a sink only delivers it.
/// </summary>
public interface ICompletionSink
{
    /// <summary>Something has been delivered: an error can no longer replace the reply.</summary>
    bool Started { get; }

    /// <summary>A streamed chunk (also the final usage chunk when the client asked for it).</summary>
    Task ChunkAsync(ChatChunk chunk, CancellationToken cancellationToken);

    /// <summary>The upstream is silent; keep the connection open.</summary>
    Task KeepAliveAsync(CancellationToken cancellationToken);

    /// <summary>The stream is complete.</summary>
    Task DoneAsync(CancellationToken cancellationToken);

    /// <summary>The whole reply of a non-streaming request.</summary>
    Task CompletionAsync(ChatCompletion completion, CancellationToken cancellationToken);

    /// <summary>The request failed: an error response before anything was delivered, an error event after.</summary>
    Task ErrorAsync(ApiError error);
}

/// <summary>The API's sink: JSON for a reply or an error, Server-Sent Events for a stream.</summary>
public sealed class HttpCompletionSink(HttpResponse response) : ICompletionSink
{
    private readonly SseWriter _sse = new(response);

    public bool Started => response.HasStarted;

    public async Task ChunkAsync(ChatChunk chunk, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await _sse.WriteAsync(chunk, cancellationToken);
    }

    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await _sse.WriteKeepAliveAsync(cancellationToken);
    }

    public async Task DoneAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await _sse.WriteDoneAsync(cancellationToken);
    }

    public Task CompletionAsync(ChatCompletion completion, CancellationToken cancellationToken) =>
        response.WriteAsJsonAsync(completion, Wire.Json, cancellationToken);

    public async Task ErrorAsync(ApiError error)
    {
        if (!Started)
        {
            await error.WriteAsync(response);
            return;
        }

        try
        {
            await _sse.WriteAsync(error.ToEnvelope(), CancellationToken.None);
        }
        catch (IOException)
        {
            // The client is gone as well; the settlement already stands.
        }
    }

    private Task StartAsync(CancellationToken cancellationToken) =>
        Started ? Task.CompletedTask : _sse.StartAsync(cancellationToken);
}
