namespace Portal.Gateway;

/// <summary>
/// Where a completion's output goes: an HTTP response for the API, or the playground's component.
/// The pipeline (<see cref="ChatGateway"/>) decides what to send; a sink only delivers it.
/// </summary>
public interface ICompletionSink
{
    /// <summary>Something has been delivered: an error can no longer replace the reply.</summary>
    bool Started { get; }

    /// <summary>A streamed chunk (also the final usage chunk when the client asked for it): what it says,
    /// and its JSON as the client receives it (valid only until the call returns).</summary>
    Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken);

    /// <summary>The upstream is silent; keep the connection open.</summary>
    Task KeepAliveAsync(CancellationToken cancellationToken);

    /// <summary>The stream is complete.</summary>
    Task DoneAsync(CancellationToken cancellationToken);

    /// <summary>The whole reply of a non-streaming request, as JSON.</summary>
    Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken);

    /// <summary>The key's tokens-per-minute figures, before anything is written: headers for an HTTP reply; the playground has no key.</summary>
    void TokenLimit(RateLimits.TokenDecision decision)
    {
    }

    /// <summary>The request failed: an error response before anything was delivered, an error event after.</summary>
    Task ErrorAsync(ApiError error);

    /// <summary>
    /// An event of a stream (<paramref name="settled"/> null), or the whole reply (with the usage Portal
    /// settled), from an upstream that speaks the client's own API (ADR 35). Only a request that carries
    /// its native body (<see cref="ChatRequest.Native"/>) is ever sent to such an upstream, so only the
    /// sinks of those front doors implement it.
    /// </summary>
    Task NativeAsync(NativeEvent native, ChatUsage? settled, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This sink takes chat completions only.");
}
