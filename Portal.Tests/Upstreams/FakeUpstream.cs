using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.Tests.Upstreams;

/// <summary>One call the fake upstream received.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonObject? Body)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <summary>How the fake upstream answers one call; the token ends with the call or the fake.</summary>
public delegate Task UpstreamReply(HttpContext http, CancellationToken cancellationToken);

/// <summary>
/// A real OpenAI-compatible provider on a loopback port, scripted per test: the n-th call gets the
/// n-th reply, and the last reply answers every call after it ("always 503"). Every call is recorded
/// with its headers and JSON body. Listens on 127.0.0.1 only; dispose it at the end of the test.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly UpstreamReply[] _replies;
    private readonly List<ReceivedRequest> _requests = [];
    private readonly CancellationTokenSource _stopping = new();
    private long _bytesSent;

    private FakeUpstream(UpstreamReply[] replies)
    {
        _replies = replies;
        // The empty builder reads no appsettings or environment: nothing can add another endpoint.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        // Every connection's output is counted where Kestrel hands it to the socket: once Portal has
        // closed a connection, writes to its response complete without going anywhere.
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => connection =>
        {
            connection.Transport = new CountedTransport(connection.Transport, bytes => Interlocked.Add(ref _bytesSent, bytes));
            return next(connection);
        })));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Like <c>http://127.0.0.1:PORT/v1</c>; Portal appends <c>/chat/completions</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Bytes written to Portal's connections so far, headers included: how much of a huge reply got out.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeUpstream> StartAsync(params UpstreamReply[] replies)
    {
        if (replies.Length == 0)
        {
            throw new ArgumentException("script at least one reply", nameof(replies));
        }

        var upstream = new FakeUpstream(replies);
        await upstream._app.StartAsync();
        var address = upstream._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        upstream.BaseUrl = address.TrimEnd('/') + "/v1";
        return upstream;
    }

    private async Task HandleAsync(HttpContext http)
    {
        JsonObject? body = null;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonObject>(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException)
        {
            // Recorded as null: a test asserting on the body fails with that.
        }

        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        int index;
        lock (_requests)
        {
            index = _requests.Count;
            _requests.Add(new ReceivedRequest(http.Request.Method, http.Request.Path.Value ?? "", headers, body));
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
        try
        {
            await _replies[Math.Min(index, _replies.Length - 1)](http, cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Portal gave up on this call (its timeout) or the test is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>The replies a test can script.</summary>
public static class Reply
{
    /// <summary>What <see cref="Huge"/> writes between its head and tail, one block at a time.</summary>
    private static readonly byte[] Filler = Enumerable.Repeat((byte)'x', 64 * 1024).ToArray();

    /// <summary>An SSE stream of the given events, each flushed at once, then <c>data: [DONE]</c>.</summary>
    public static UpstreamReply Stream(params JsonObject[] events) => async (http, cancellationToken) =>
    {
        await WriteEventsAsync(http, events, cancellationToken);
        await http.Response.WriteAsync("data: [DONE]\n\n", cancellationToken);
    };

    /// <summary>An SSE stream that ends cleanly but without <c>data: [DONE]</c>: a reply cut short on the way.</summary>
    public static UpstreamReply StreamWithoutDone(params JsonObject[] events) => (http, cancellationToken) =>
        WriteEventsAsync(http, events, cancellationToken);

    /// <summary>
    /// Streams the events, then waits for <paramref name="abortWhen"/> and drops the connection
    /// without finishing the reply. Waiting until the test has seen the events reach Portal's
    /// client keeps them from being lost in the abort.
    /// </summary>
    public static UpstreamReply StreamThenAbort(Task abortWhen, params JsonObject[] events) => async (http, cancellationToken) =>
    {
        await WriteEventsAsync(http, events, cancellationToken);
        await abortWhen.WaitAsync(cancellationToken);
        http.Abort();
    };

    /// <summary>An HTTP error with a JSON body, as providers send them.</summary>
    public static UpstreamReply Status(int status, JsonObject body) => async (http, cancellationToken) =>
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString(), cancellationToken);
    };

    /// <summary>429 with a <c>Retry-After</c> in seconds, as rate-limited providers answer.</summary>
    public static UpstreamReply RateLimited(int retryAfterSeconds) => async (http, cancellationToken) =>
    {
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Error(429, "slow down")(http, cancellationToken);
    };

    /// <summary>An OpenAI-style error: <c>{"error":{"message","type","code"}}</c>.</summary>
    public static UpstreamReply Error(int status, string message) =>
        Status(status, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["code"] = null } });

    /// <summary>A provider that ignores <c>stream: true</c> and answers one <c>chat.completion</c>.</summary>
    public static UpstreamReply Json(JsonObject completion) => async (http, cancellationToken) =>
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(completion.ToJsonString(), cancellationToken);
    };

    /// <summary>Any status, content type and body, as given: for replies that are not what they claim to be.</summary>
    public static UpstreamReply Raw(int status, string contentType, string body) => async (http, cancellationToken) =>
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(body, cancellationToken);
    };

    /// <summary>
    /// <paramref name="head"/>, then <paramref name="size"/> bytes of <c>x</c>, then <paramref name="tail"/>: a body of any
    /// size, written block by block as Portal takes it (TCP holds each write back until there is room), so it is never
    /// allocated whole and <see cref="FakeUpstream.BytesSent"/> tells how much got out. Chunked, unless
    /// <paramref name="announceLength"/>: then with its Content-Length up front.
    /// </summary>
    public static UpstreamReply Huge(int status, string contentType, string head, long size, string tail, bool announceLength = false) =>
        async (http, cancellationToken) =>
        {
            var (start, end) = (Encoding.UTF8.GetBytes(head), Encoding.UTF8.GetBytes(tail));
            http.Response.StatusCode = status;
            http.Response.ContentType = contentType;
            if (announceLength)
            {
                http.Response.ContentLength = start.Length + size + end.Length;
            }

            await http.Response.Body.WriteAsync(start, cancellationToken);
            for (var left = size; left > 0; left -= Filler.Length)
            {
                // Writes to a connection Portal has closed complete at once: stop when Kestrel has noticed.
                cancellationToken.ThrowIfCancellationRequested();
                await http.Response.Body.WriteAsync(Filler.AsMemory(0, (int)Math.Min(left, Filler.Length)), cancellationToken);
            }

            await http.Response.Body.WriteAsync(end, cancellationToken);
        };

    /// <summary>Sends nothing at all (not even headers) for <paramref name="delay"/>, then <paramref name="then"/>.</summary>
    public static UpstreamReply After(TimeSpan delay, UpstreamReply then) => async (http, cancellationToken) =>
    {
        await Task.Delay(delay, cancellationToken);
        await then(http, cancellationToken);
    };

    /// <summary>Sends 200 and the SSE headers at once, then nothing for <paramref name="delay"/>, then the events.</summary>
    public static UpstreamReply HeadersThenSilence(TimeSpan delay, params JsonObject[] events) => async (http, cancellationToken) =>
    {
        http.Response.ContentType = "text/event-stream";
        await http.Response.StartAsync(cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
        await Task.Delay(delay, cancellationToken);
        await Stream(events)(http, cancellationToken);
    };

    /// <summary>
    /// Sends 200, the SSE headers and a comment, then fails. Kestrel ends an HTTP/1.1 response whose
    /// handler threw after starting by closing the connection once the flushed bytes are out, without
    /// the final chunk: the client gets the headers for certain, then a body that ends too soon.
    /// </summary>
    public static UpstreamReply HeadersThenBreak() => async (http, cancellationToken) =>
    {
        http.Response.ContentType = "text/event-stream";
        await http.Response.WriteAsync(": processing\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
        throw new InvalidOperationException("scripted: the provider broke before its first chunk");
    };

    private static async Task WriteEventsAsync(HttpContext http, JsonObject[] events, CancellationToken cancellationToken)
    {
        if (!http.Response.HasStarted)
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
        }

        foreach (var data in events)
        {
            await http.Response.WriteAsync($"data: {data.ToJsonString()}\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
        }
    }
}

/// <summary>
/// <c>chat.completion.chunk</c> events as OpenAI-compatible providers send them, nulls and extra
/// fields included, with the provider's own id and model (which Portal must replace).
/// </summary>
public static class Chunks
{
    public const string UpstreamId = "chatcmpl-provider-7f3a";

    public static JsonObject Content(string text, string? finishReason = null) =>
        Delta(new JsonObject { ["content"] = text }, finishReason);

    public static JsonObject Delta(JsonObject delta, string? finishReason = null) => Event(
        new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason }),
        usage: null);

    /// <summary>The last event with <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public static JsonObject Usage(int prompt, int completion, int cached = 0, int reasoning = 0, decimal? providerCost = null)
    {
        var usage = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
            ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reasoning },
        };
        if (providerCost is { } cost)
        {
            usage["cost"] = cost; // OpenRouter reports its own price; Portal must not pass it on
        }

        return Event([], usage);
    }

    private static JsonObject Event(JsonArray choices, JsonObject? usage) => new()
    {
        ["id"] = UpstreamId,
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_700_000_000,
        ["model"] = "provider-model-v1",
        ["system_fingerprint"] = "fp_fake",
        ["choices"] = choices,
        ["usage"] = usage,
    };
}

/// <summary>A connection whose output is counted as Kestrel writes it, before the socket sends it.</summary>
internal sealed class CountedTransport(IDuplexPipe inner, Action<int> sent) : IDuplexPipe
{
    public PipeReader Input => inner.Input;

    public PipeWriter Output { get; } = new CountedWriter(inner.Output, sent);

    private sealed class CountedWriter(PipeWriter inner, Action<int> sent) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            sent(bytes);
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }
}
