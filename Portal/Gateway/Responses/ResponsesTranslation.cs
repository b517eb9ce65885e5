using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// A Responses request translated: the chat completions body the gateway runs, and what the Response
/// object echoes of the request (its <c>instructions</c>, <c>tools</c>, <c>text</c>, <c>metadata</c>…),
/// or why it could not be translated (ADR "the OpenAI Responses API as a translation onto chat completions").
/// </summary>
/// <param name="Echo">The Response object's members that repeat the request, written into every Response Portal sends.</param>
/// <param name="Store">Whether the client wants the Response kept (<c>store</c>, true unless it says false; ADR 32).</param>
public sealed record ResponsesTranslation(JsonObject? Chat, JsonObject Echo, bool Stream, ApiError? Error, bool Store = false)
{
    public static ResponsesTranslation Refused(ApiError error) => new(null, [], false, error);
}
