using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Portal.Tests.Upstreams;

/// <summary>Replies and events of a provider that speaks Anthropic's Messages API, for <see cref="FakeUpstream"/>.</summary>
public static class NativeMessagesFixtures
{
    /// <summary>The fake's address without <c>/v1</c>: Portal appends <c>/v1/messages</c> to a Messages base.</summary>
    public static string MessagesBaseUrl(this FakeUpstream upstream) => upstream.BaseUrl[..^"/v1".Length];

    /// <summary>Anthropic's SSE: each event named by its type, flushed at once. The stream ends with the last event.</summary>
    public static UpstreamReply Stream(params JsonObject[] events) => async (http, cancellationToken) =>
    {
        await WriteAsync(http, events, cancellationToken);
    };

    /// <summary>The events, then nothing until Portal gives up on the call: a provider still generating.</summary>
    public static UpstreamReply StreamThenWait(params JsonObject[] events) => async (http, cancellationToken) =>
    {
        await WriteAsync(http, events, cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    };

    /// <summary>Anthropic's error envelope with its status.</summary>
    public static UpstreamReply Error(int status, string type, string message) =>
        Reply.Status(status, new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } });

    public static JsonObject MessageStart(int input, int cacheRead = 0, int cacheCreation = 0) => new()
    {
        ["type"] = "message_start",
        ["message"] = new JsonObject
        {
            ["id"] = "msg_provider", ["type"] = "message", ["role"] = "assistant", ["model"] = "provider-model", ["content"] = new JsonArray(),
            ["stop_reason"] = null, ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = input, ["cache_read_input_tokens"] = cacheRead, ["cache_creation_input_tokens"] = cacheCreation, ["output_tokens"] = 1 },
        },
    };

    public static JsonObject BlockStart(int index, JsonObject block) => new() { ["type"] = "content_block_start", ["index"] = index, ["content_block"] = block };

    public static JsonObject BlockDelta(int index, JsonObject delta) => new() { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta };

    public static JsonObject BlockStop(int index) => new() { ["type"] = "content_block_stop", ["index"] = index };

    public static JsonObject MessageDelta(string stopReason, int output, string? stopSequence = null) => new()
    {
        ["type"] = "message_delta",
        ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = stopSequence },
        ["usage"] = new JsonObject { ["output_tokens"] = output },
    };

    public static JsonObject MessageStop() => new() { ["type"] = "message_stop" };

    public static JsonObject Ping() => new() { ["type"] = "ping" };

    private static async Task WriteAsync(HttpContext http, JsonObject[] events, CancellationToken cancellationToken)
    {
        http.Response.ContentType = "text/event-stream";
        foreach (var e in events)
        {
            // The event line is the fake's own framing: only the data line carries what a test makes up.
            await http.Response.WriteAsync($"event: {e["type"]!.GetValue<string>().ReplaceLineEndings(" ")}\ndata: {e.ToJsonString()}\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
        }
    }
}
