using Portal.Gateway;

namespace Portal.Playground;

/// <summary>
/// Delivers a streamed reply into the playground's conversation. Re-renders are throttled: a fast
/// stream must not send the browser one render per token over the circuit.
/// </summary>
internal sealed class PlaygroundSink(PlaygroundMessage reply, Action render, TimeProvider time) : ICompletionSink
{
    private static readonly TimeSpan RenderEvery = TimeSpan.FromMilliseconds(50);
    private long _lastRender;

    public bool Started { get; private set; }

    public Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        Started = true;
        foreach (var choice in chunk.Choices.Where(c => c.Index == 0))
        {
            reply.Append(choice.Delta);
            reply.FinishReason = choice.FinishReason ?? reply.FinishReason;
        }

        if (time.GetElapsedTime(_lastRender) >= RenderEvery)
        {
            _lastRender = time.GetTimestamp();
            render();
        }

        return Task.CompletedTask;
    }

    public Task KeepAliveAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DoneAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The playground always streams.");

    public Task ErrorAsync(ApiError error)
    {
        reply.Error = PlainWords(error);
        return Task.CompletedTask;
    }

    /// <summary>What went wrong, for a person rather than a program.</summary>
    public static string PlainWords(ApiError error) => error.Code switch
    {
        "insufficient_quota" => $"Your credits don't cover this reply. {error.Message}",
        "service_unavailable" => "The API is switched off by an administrator, so the playground can't answer right now. Try again later.",
        "rate_limit_exceeded" => $"Too many requests at once. {error.Message}",
        "upstream_error" or "upstream_timeout" => $"The model's provider didn't answer properly ({error.Message}) You were only charged for what arrived.",
        "model_not_found" => "That model is no longer available. Pick another one.",
        _ => error.Message,
    };
}
