namespace Portal.Gateway;

/// <summary>
/// One event of a provider's reply (or its whole non-streamed reply), as the relay handles it: the
/// fields billing reads, typed, and the rest of what the provider wrote, as it wrote it (ADR 24).
/// </summary>
/// <param name="Facts">What billing and the playground read: each choice's index, text, tool calls and
/// finish reason, and the usage. Never written to a client as is when <paramref name="Members"/> is set.</param>
/// <param name="Members">The reply's top-level members other than those Portal writes itself (<c>id</c>,
/// <c>object</c>, <c>created</c>, <c>model</c>, <c>usage</c>, <c>request_id</c>), byte for byte and
/// comma-separated, without the braces: <c>choices</c>, <c>system_fingerprint</c>, <c>service_tier</c> and
/// whatever a provider adds. Null for a chunk Portal made itself (the simulated upstream).</param>
/// <param name="Usage">The provider's <c>usage</c> object, byte for byte, when it sent one.</param>
/// <param name="Whole">A non-streamed reply (<c>chat.completion</c>): its choices hold messages, not deltas.</param>
/// <param name="Native">From an upstream that speaks the client's own API (Anthropic Messages, ADR 35): the
/// event or message as the provider wrote it, which the sink relays instead of a chat chunk.
/// <paramref name="Facts"/> then holds only what billing reads.</param>
public sealed record UpstreamChunk(ChatChunk Facts, byte[]? Members = null, byte[]? Usage = null, bool Whole = false, NativeEvent? Native = null)
{
    public static implicit operator UpstreamChunk(ChatChunk made) => new(made);
}

/// <summary>An event (or whole reply) in the client's API, as the provider wrote it: its <c>type</c> and its JSON.</summary>
public sealed record NativeEvent(string Type, byte[] Json);
