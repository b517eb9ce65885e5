using System.Text.Json.Nodes;
using Portal.Gateway.Messages;

namespace Portal.Gateway;

/// <summary>
/// A chat request's body as it arrived: its JSON, or the reason it could not be read (too large,
/// not JSON…). An unreadable body is still a request of its payer's: it is answered, recorded and
/// counted like any other refusal.
/// </summary>
/// <param name="Bytes">The body's size as it arrived, for the hold's prompt bound (ADR 13); 0 for a
/// body built in code (the playground's), which the gateway then measures.</param>
/// <param name="Native">A Messages request as the client sent it, for upstreams that take it as is (ADR 35);
/// <paramref name="Json"/> is then its translation, which validation, the hold and other upstreams use.</param>
public readonly record struct ChatBody(JsonNode? Json, ApiError? Error, long Bytes = 0, NativeMessages? Native = null)
{
    public static implicit operator ChatBody(JsonNode? json) => new(json, null);

    public static ChatBody Unreadable(ApiError error) => new(null, error);
}
