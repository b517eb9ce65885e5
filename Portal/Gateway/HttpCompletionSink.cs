namespace Portal.Gateway;

/// <summary>The API's sink: JSON for a reply or an error, Server-Sent Events for a stream.</summary>
public sealed class HttpCompletionSink(HttpResponse response) : ICompletionSink
{
    private readonly SseWriter _sse = new(response);

    public bool Started => response.HasStarted;

    public async Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await _sse.WriteAsync(json, cancellationToken);
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

    public async Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json, cancellationToken);
    }

    public void TokenLimit(RateLimits.TokenDecision decision) => RateLimits.TokenLimits.WriteHeaders(response, decision);

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
