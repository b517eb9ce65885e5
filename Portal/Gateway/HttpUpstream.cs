using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Portal.Alerts;
using Portal.Catalog;
using Portal.Observability;

namespace Portal.Gateway;

/// <summary>
/// Calls OpenAI-compatible providers the way the client asked: a streaming request as a stream (with
/// usage, so a cut-short reply can be counted), a non-streaming one for one reply (ADR 8); either kind
/// of answer is read as chunks, so both share one path. Tries the model's upstreams by priority; each gets retries with exponential backoff on connection failure, timeout,
/// 429 or 5xx — all before the first chunk, so the client never sees a half-reply twice. A provider's
/// refusal of the request reaches the client in the provider's words (ADR 21). A Messages request goes to
/// an upstream's Anthropic Messages endpoint as the client sent it, where the upstream has one (ADR 35).
/// </summary>
public sealed partial class HttpUpstream(
    HttpClient http, IDataProtectionProvider protection, GatewayMetrics metrics, UpstreamFailureAlerts alerts, IOptions<GatewayOptions> options,
    ILogger<HttpUpstream> logger)
{
    public const string ProtectorPurpose = "Portal.UpstreamKeys";
    private const int AttemptsPerUpstream = 2;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    /// <summary>The longest 429 Retry-After worth waiting for before trying the next upstream instead.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(5);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _keys = new(StringComparer.Ordinal);

    /// <param name="trying">Told which upstream each attempt goes to: the last one named answered, or failed last.</param>
    public async IAsyncEnumerable<UpstreamChunk> StreamAsync(ChatRequest request, ModelInfo model, Action<UpstreamInfo> trying,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ApiError failure = ApiError.Upstream($"No upstream is available for '{model.Id}'.");
        var attempts = 0;
        foreach (var configured in model.Upstreams)
        {
            var upstream = configured with { Timeout = Patience(request, configured) };
            var wait = TimeSpan.Zero;
            for (var attempt = 0; attempt < AttemptsPerUpstream; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(Max(wait, FirstBackoff * Math.Pow(4, attempt - 1)), cancellationToken);
                }

                if (attempts++ > 0)
                {
                    metrics.UpstreamRetried(model.Id);
                }

                trying(upstream);
                // A Messages request goes as sent where the upstream speaks Messages, else translated (ADR 35).
                var native = request.Native is not null && upstream.MessagesBaseUrl is not null;
                var (response, error, then, retryAfter) = await ConnectAsync(request, upstream, native, cancellationToken);
                if (response is null)
                {
                    failure = error!;
                    // A relayed code is the provider's: metrics carry bounded values only.
                    var code = error!.Relayed ? "provider_refused" : error.Code;
                    metrics.UpstreamFailed(model.Id, code);
                    logger.LogWarning("Upstream {UpstreamId} attempt {Attempt} failed: {Code}", upstream.Id, attempt + 1, code);
                    if (!error.Relayed)
                    {
                        // The upstream's own trouble, not a refusal of this request: it counts towards the admins' alert.
                        alerts.Failed(upstream, model.Id, code);
                    }

                    if (then == Then.GiveUp)
                    {
                        throw new UpstreamException(error, retryable: false);
                    }

                    if (then == Then.NextUpstream)
                    {
                        break;
                    }

                    // A 429 says when to come back: wait that long if it is short, else move on.
                    wait = retryAfter ?? TimeSpan.Zero;
                    if (wait > MaxRetryAfter)
                    {
                        break;
                    }

                    continue;
                }

                // The first chunk is still "before the first byte reached the client": a broken or
                // silent connection here is retried like a failed connect. A reply that arrived but is
                // unreadable or too large is not: the provider has done the work and billed for it.
                var reader = new UpstreamReader(response, upstream, options.Value, logger, native);
                UpstreamChunk? first;
                try
                {
                    first = await reader.NextAsync(cancellationToken);
                }
                catch (UpstreamException e)
                {
                    reader.Dispose();
                    failure = e.Error;
                    metrics.UpstreamFailed(model.Id, e.Error.Code);
                    logger.LogWarning("Upstream {UpstreamId} attempt {Attempt} failed before its first chunk: {Code}", upstream.Id, attempt + 1, e.Error.Code);
                    alerts.Failed(upstream, model.Id, e.Error.Code);
                    if (!e.Retryable)
                    {
                        throw;
                    }

                    continue;
                }

                alerts.Succeeded(upstream);
                using (reader)
                {
                    for (var chunk = first; chunk is not null; chunk = await NextAsync(reader, model, cancellationToken))
                    {
                        yield return chunk;
                    }
                }

                yield break;
            }
        }

        throw new UpstreamException(failure);
    }

    /// <summary>A chunk after the first: a failure here ends the reply (no retry), but still counts.</summary>
    private async Task<UpstreamChunk?> NextAsync(UpstreamReader reader, ModelInfo model, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.NextAsync(cancellationToken);
        }
        catch (UpstreamException e)
        {
            metrics.UpstreamFailed(model.Id, e.Error.Code);
            throw;
        }
    }

    /// <summary>
    /// An upstream key, decrypted once per stored value rather than per request (decrypting derives
    /// a key and checks a MAC on every call, with OpenSSL contexts made each time). A changed key is a new value.
    /// </summary>
    private string KeyOf(string protectedKey)
    {
        if (!_keys.TryGetValue(protectedKey, out var key))
        {
            if (_keys.Count >= 1024)
            {
                _keys.Clear(); // bounded: edited keys leave old values behind
            }

            _keys[protectedKey] = key = protection.CreateProtector(ProtectorPurpose).Unprotect(protectedKey);
        }

        return key;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// How long the upstream may stay silent. A stream sends its first bytes early and more as it goes;
    /// a non-streamed reply comes all at once when it is done, so it gets at least
    /// <see cref="GatewayOptions.NonStreamingReplySeconds"/>.
    /// </summary>
    private TimeSpan Patience(ChatRequest request, UpstreamInfo upstream) =>
        request.Stream ? upstream.Timeout : Max(upstream.Timeout, TimeSpan.FromSeconds(options.Value.NonStreamingReplySeconds));

    /// <summary>Sends the request; on failure says what to tell the client and whether another try may help.</summary>
    private async Task<(HttpResponseMessage? Response, ApiError? Error, Then Then, TimeSpan? RetryAfter)> ConnectAsync(
        ChatRequest request, UpstreamInfo upstream, bool native, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(upstream.Timeout);
        var message = native ? NativeMessage(request, upstream) : new HttpRequestMessage(HttpMethod.Post, upstream.BaseUrl.TrimEnd('/') + "/chat/completions")
        {
            Content = new ReadOnlyMemoryContent(UpstreamBody(request, upstream.UpstreamModel)) { Headers = { ContentType = new("application/json") } },
        };
        if (!native && upstream.ProtectedApiKey is { } protectedKey)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyOf(protectedKey));
        }

        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(request.Stream ? "text/event-stream" : "application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, ApiError.UpstreamTimeout($"The upstream did not answer within {upstream.Timeout.TotalSeconds:0} s."), Then.RetryHere, null);
        }
        catch (HttpRequestException e)
        {
            return (null, ApiError.Upstream($"Could not reach the upstream ({e.HttpRequestError})."), Then.RetryHere, null);
        }

        if (response.IsSuccessStatusCode)
        {
            return (response, null, Then.GiveUp, null);
        }

        var status = (int)response.StatusCode;
        var said = (await ProviderError.ReadAsync(response, timeout.Token)).Cleaned(upstream, upstream.ProtectedApiKey is { } k ? KeyOf(k) : null);
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date - DateTimeOffset.UtcNow)
            : null;
        response.Dispose();
        var (error, then) = Classify(status, said);
        if (then == Then.NextUpstream)
        {
            // The operator's to fix, and the client cannot: say so in the log. Not what the provider said:
            // it may quote the key or the prompt, and neither belongs in a log.
            logger.LogError("Upstream {UpstreamId} ({UpstreamModel}) answered HTTP {Status}: {Cause}", upstream.Id, upstream.UpstreamModel, status,
                status == (int)HttpStatusCode.NotFound ? "check its base URL and upstream model name" : "check its API key");
        }

        return (null, error, then, retryAfter);
    }

    /// <summary>
    /// What a provider's error status means for the client and for the next attempt (ADR 21): 429 and
    /// 5xx are the provider's trouble, tried again and then elsewhere; a refusal of the request itself
    /// (400, 413, 422) is relayed in the provider's words and tried nowhere else, since every provider would
    /// refuse it alike; a refusal of Portal's credentials or a model the provider does not have (401,
    /// 403, 404) is the operator's configuration of that one upstream, so the next one is tried and the
    /// client, who can fix nothing, gets 502.
    /// </summary>
    internal static (ApiError Error, Then Then) Classify(int status, ProviderError said) => status switch
    {
        429 or >= 500 => (ApiError.Upstream($"The upstream answered HTTP {status}{said.Detail()}."), Then.RetryHere),
        400 or 422 => (said.Relay(400, status), Then.GiveUp),
        413 => (said.Relay(413, status), Then.GiveUp),
        401 or 403 => (ApiError.Upstream($"The model's provider refused Portal's credentials (HTTP {status}). This is Portal's configuration, not your request; the operator can see it in the logs."), Then.NextUpstream),
        404 => (ApiError.Upstream("The model's provider does not serve the model Portal asked it for (HTTP 404). This is Portal's configuration, not your request; the operator can see it in the logs."), Then.NextUpstream),
        _ => (ApiError.Upstream($"The upstream answered HTTP {status}{said.Detail()}."), Then.GiveUp),
    };

    /// <summary>After a failed attempt: the same upstream again (after a pause), the next one, or none.</summary>
    internal enum Then
    {
        RetryHere,
        NextUpstream,
        GiveUp,
    }

    /// <summary>
    /// A Messages request to <c>{MessagesBaseUrl}/v1/messages</c> as Anthropic's API takes it: the key as
    /// <c>x-api-key</c>, the client's <c>anthropic-version</c> (or the default) and <c>anthropic-beta</c>.
    /// </summary>
    private HttpRequestMessage NativeMessage(ChatRequest request, UpstreamInfo upstream)
    {
        var native = request.Native!;
        var message = new HttpRequestMessage(HttpMethod.Post, upstream.MessagesBaseUrl!.TrimEnd('/') + "/v1/messages")
        {
            Content = new ReadOnlyMemoryContent(NativeBody(request, upstream.UpstreamModel)) { Headers = { ContentType = new("application/json") } },
        };
        if (upstream.ProtectedApiKey is { } protectedKey)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", KeyOf(protectedKey));
        }

        message.Headers.TryAddWithoutValidation("anthropic-version", native.Version);
        if (native.Beta is { } beta)
        {
            message.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        }

        return message;
    }

    /// <summary>Fields of a Messages body Portal writes itself in <see cref="NativeBody"/>.</summary>
    private static readonly HashSet<string> NativeRewritten = ["model", "max_tokens", "stream"];

    /// <summary>
    /// The client's Messages body as sent, with the upstream's model name, the effective <c>max_tokens</c>
    /// (what the hold covers) and <c>stream</c> as the run reads the reply; written as UTF-8 from the parsed
    /// body, like <see cref="UpstreamBody"/>.
    /// </summary>
    internal static ReadOnlyMemory<byte> NativeBody(ChatRequest request, string upstreamModel)
    {
        var body = request.Native!;
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(body.Bytes + 256, 256, int.MaxValue));
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Wire.Json.Encoder }))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, upstreamModel);
            CopyMembers(body.Body, json, NativeRewritten);

            json.WriteNumber("max_tokens"u8, request.MaxTokens);
            json.WriteBoolean("stream"u8, request.Stream);
            json.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>Client fields Portal writes itself, or drops, in <see cref="UpstreamBody"/>.</summary>
    private static readonly HashSet<string> Rewritten = ["model", "max_completion_tokens", "request_id", "max_tokens", "stream", "stream_options"];

    /// <summary>
    /// The client's body with the upstream's model name, the effective max_tokens and, on a stream, usage
    /// asked for; <c>request_id</c> is Portal's to echo (OpenAI refuses fields it does not know), and
    /// <c>stream_options</c> goes only with a stream (providers refuse it without). Written as UTF-8 straight
    /// from the parsed body: the client's other fields are copied, never cloned or turned into a string.
    /// </summary>
    /// <remarks>The hold counts these bytes too: a field added here must fit <see cref="TokenEstimator.ForwardedFieldsBytes"/> (ADR 13).</remarks>
    internal static ReadOnlyMemory<byte> UpstreamBody(ChatRequest request, string upstreamModel)
    {
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.BodyBytes + 256, 256, int.MaxValue));
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Wire.Json.Encoder }))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, upstreamModel);
            CopyMembers(request.Raw, json, Rewritten);

            json.WriteNumber("max_tokens"u8, request.MaxTokens);
            json.WriteBoolean("stream"u8, request.Stream);
            if (request.Stream)
            {
                json.WriteStartObject("stream_options"u8);
                json.WriteBoolean("include_usage"u8, true);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>Writes the client's members as they were parsed, except those Portal writes itself.</summary>
    private static void CopyMembers(JsonObject body, Utf8JsonWriter json, HashSet<string> skipped)
    {
        foreach (var (name, value) in body)
        {
            if (skipped.Contains(name))
            {
                continue;
            }

            json.WritePropertyName(name);
            if (value is null)
            {
                json.WriteNullValue();
            }
            else
            {
                value.WriteTo(json);
            }
        }
    }
}
