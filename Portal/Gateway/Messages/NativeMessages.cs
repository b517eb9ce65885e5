using System.Text.Json.Nodes;

namespace Portal.Gateway.Messages;

/// <summary>
/// A Messages request as the client sent it, kept beside its translation for an upstream that speaks
/// Anthropic's Messages API natively (ADR 35): the body is forwarded with the upstream's model name,
/// the effective <c>max_tokens</c> and <c>stream</c>; the headers that shape the answer go along.
/// </summary>
/// <param name="Bytes">The body's size as it arrived, for the hold's prompt bound (ADR 13).</param>
/// <param name="Version">The client's <c>anthropic-version</c>, else <see cref="DefaultVersion"/>.</param>
/// <param name="Beta">The client's <c>anthropic-beta</c>, if any: features it opts into at the provider.</param>
public sealed record NativeMessages(JsonObject Body, long Bytes, string Version, string? Beta)
{
    public const string DefaultVersion = "2023-06-01";
}
