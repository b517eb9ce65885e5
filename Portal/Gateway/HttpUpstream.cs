using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Portal.Catalog;
using Portal.Observability;

namespace Portal.Gateway;

/// <summary>
/// Calls OpenAI-compatible providers the way the client asked: a streaming request as a stream (with
/// usage, so a cut-short reply can be counted), a non-streaming one for one reply (ADR 8); either kind
/// of answer is read as chunks, so both share one path. Tries the model's upstreams by priority; each gets retries with exponential backoff on connection failure, timeout,
/// 429 or 5xx — all before the first chunk, so the client never sees a half-reply twice.
/// </summary>
public sealed partial class HttpUpstream(
    HttpClient http, IDataProtectionProvider protection, GatewayMetrics metrics, IOptions<GatewayOptions> options, ILogger<HttpUpstream> logger)
{
    public const string ProtectorPurpose = "Portal.UpstreamKeys";
    private const int AttemptsPerUpstream = 2;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    /// <summary>The longest 429 Retry-After worth waiting for before trying the next upstream instead.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(5);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _keys = new(StringComparer.Ordinal);

    /// <param name="trying">Told which upstream each attempt goes to: the last one named answered, or failed last.</param>
    public async IAsyncEnumerable<ChatChunk> StreamAsync(ChatRequest request, ModelInfo model, Action<UpstreamInfo> trying,
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
                var (response, error, retryable, retryAfter) = await ConnectAsync(request, upstream, cancellationToken);
                if (response is null)
                {
                    failure = error!;
                    metrics.UpstreamFailed(model.Id, error!.Code);
                    logger.LogWarning("Upstream {UpstreamId} attempt {Attempt} failed: {Code}", upstream.Id, attempt + 1, error!.Code);
                    if (!retryable)
                    {
                        throw new UpstreamException(error);
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
                // silent connection here is retried like a failed connect.
                var reader = new UpstreamReader(response, upstream, logger);
                ChatChunk? first;
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
                    continue;
                }

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
    private async Task<ChatChunk?> NextAsync(UpstreamReader reader, ModelInfo model, CancellationToken cancellationToken)
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
    private async Task<(HttpResponseMessage? Response, ApiError? Error, bool Retryable, TimeSpan? RetryAfter)> ConnectAsync(
        ChatRequest request, UpstreamInfo upstream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(upstream.Timeout);
        var message = new HttpRequestMessage(HttpMethod.Post, upstream.BaseUrl.TrimEnd('/') + "/chat/completions")
        {
            Content = new StringContent(UpstreamBody(request, upstream).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (upstream.ProtectedApiKey is { } protectedKey)
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
            return (null, ApiError.UpstreamTimeout($"The upstream did not answer within {upstream.Timeout.TotalSeconds:0} s."), true, null);
        }
        catch (HttpRequestException e)
        {
            return (null, ApiError.Upstream($"Could not reach the upstream ({e.HttpRequestError})."), true, null);
        }

        if (response.IsSuccessStatusCode)
        {
            return (response, null, false, null);
        }

        var status = (int)response.StatusCode;
        var detail = await SafeDetailAsync(response, cancellationToken);
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date - DateTimeOffset.UtcNow)
            : null;
        response.Dispose();
        var retryable = status == (int)HttpStatusCode.TooManyRequests || status >= 500;
        return (null, ApiError.Upstream($"The upstream answered HTTP {status}{detail}."), retryable, retryAfter);
    }

    /// <summary>The client's body with the upstream's model name, the effective max_tokens and, on a stream, usage asked for.</summary>
    private static JsonObject UpstreamBody(ChatRequest request, UpstreamInfo upstream)
    {
        var body = (JsonObject)request.Raw.DeepClone();
        body["model"] = upstream.UpstreamModel;
        body.Remove("max_completion_tokens");
        body["max_tokens"] = request.MaxTokens;
        body["stream"] = request.Stream;
        if (request.Stream)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else
        {
            body.Remove("stream_options"); // providers refuse it without stream
        }

        return body;
    }

    /// <summary>
    /// The provider's own error message, short and with anything key-like removed: upstream bodies
    /// may echo credentials, and they must never reach a client or a log.
    /// </summary>
    private static async Task<string> SafeDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var message = JsonNode.Parse(text.Length > 8192 ? text[..8192] : text)?["error"]?["message"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(message))
            {
                return "";
            }

            message = KeyLike().Replace(message, "[redacted]");
            return ": " + (message.Length > 300 ? message[..300] + "…" : message);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or HttpRequestException or IOException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"(sk|pk|rk|key|token|bearer)[-_ :=]*[A-Za-z0-9._\-]{8,}|[A-Za-z0-9_\-]{32,}", RegexOptions.IgnoreCase)]
    private static partial Regex KeyLike();
}

/// <summary>
/// Reads one provider reply chunk by chunk. Every read must arrive within the upstream's timeout, so
/// a provider that sends headers and then stalls is cut off like one that never answers.
/// </summary>
internal sealed class UpstreamReader(HttpResponseMessage response, UpstreamInfo upstream, ILogger logger) : IDisposable
{
    private PipeReader? _body;
    private CancellationTokenSource? _timeout;
    private bool _finished;

    /// <summary>The next chunk, or null once the provider said <c>[DONE]</c>.</summary>
    public async Task<ChatChunk?> NextAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return null;
        }

        // One timer for the whole reply, re-armed per read: a fresh one per chunk cost more than the chunk.
        var timeout = _timeout ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(upstream.Timeout);
        try
        {
            if (_body is null)
            {
                var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                if (response.Content.Headers.ContentType?.MediaType == "application/json")
                {
                    // A non-streamed reply (or a provider that ignored stream=true): it becomes one chunk.
                    _finished = true;
                    return AsChunk(await DeserializeAsync(stream, timeout.Token));
                }

                _body = PipeReader.Create(stream);
            }

            return await NextEventAsync(_body, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamException(ApiError.UpstreamTimeout($"The upstream sent nothing for {upstream.Timeout.TotalSeconds:0} s."));
        }
        catch (IOException e)
        {
            throw new UpstreamException(ApiError.Upstream($"The upstream connection broke mid-reply ({e.GetType().Name})."));
        }
        finally
        {
            // Disarmed while the caller relays the chunk: only the upstream's silence is timed.
            timeout.CancelAfter(Timeout.Infinite);
        }
    }

    public void Dispose()
    {
        _body?.Complete();
        _timeout?.Dispose();
        response.Dispose();
    }

    private async Task<ChatChunk?> NextEventAsync(PipeReader body, CancellationToken cancellationToken)
    {
        // Lines are read and parsed as UTF-8 bytes, as they arrive: no string per line, no transcoding.
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            while (TryReadLine(ref buffer, read.IsCompleted, out var line))
            {
                if (TryReadEvent(line, out var chunk))
                {
                    body.AdvanceTo(buffer.Start); // the rest may hold whole events: not yet examined
                    return chunk;
                }
            }

            body.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                // No [DONE]: the reply was cut short somewhere between the provider and us.
                throw new UpstreamException(ApiError.Upstream("The upstream ended its reply before finishing it."));
            }
        }
    }

    /// <summary>True for a line with a chunk, or with <c>[DONE]</c> (the chunk null); false for other lines.</summary>
    private bool TryReadEvent(ReadOnlySequence<byte> sequence, out ChatChunk? chunk)
    {
        chunk = null;
        ReadOnlySpan<byte> line = sequence.IsSingleSegment ? sequence.FirstSpan : sequence.ToArray();
        if (line.StartsWith(Bom))
        {
            line = line[Bom.Length..];
        }

        if (!line.StartsWith("data:"u8))
        {
            return false; // comments, event names, blank separators
        }

        var data = line[5..].Trim(" \t\f\v"u8);
        if (data.SequenceEqual("[DONE]"u8))
        {
            _finished = true;
            return true;
        }

        try
        {
            chunk = JsonSerializer.Deserialize<ChatChunk>(data, Wire.Json);
            return chunk is not null;
        }
        catch (JsonException)
        {
            logger.LogWarning("Upstream {UpstreamId} sent an event that is not a chat chunk", upstream.Id);
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed event."));
        }
    }

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Takes one line off <paramref name="buffer"/>. Lines end with LF, CRLF or a lone CR (as SSE
    /// allows); a CR at the end of what has arrived waits for the next byte, which may be its LF.
    /// </summary>
    internal static bool TryReadLine(ref ReadOnlySequence<byte> buffer, bool completed, out ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadToAny(out line, "\r\n"u8, advancePastDelimiter: false))
        {
            reader.TryRead(out var end);
            if (end == (byte)'\r')
            {
                if (reader.End && !completed)
                {
                    line = default;
                    return false;
                }

                reader.IsNext((byte)'\n', advancePast: true);
            }

            buffer = buffer.Slice(reader.Position);
            return true;
        }

        if (completed && !buffer.IsEmpty)
        {
            line = buffer; // the last line, without an end
            buffer = buffer.Slice(buffer.End);
            return true;
        }

        line = default;
        return false;
    }

    private static async Task<ChatCompletion> DeserializeAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<ChatCompletion>(stream, Wire.Json, cancellationToken)
                ?? throw new UpstreamException(ApiError.Upstream("The upstream sent an empty reply."));
        }
        catch (JsonException)
        {
            throw new UpstreamException(ApiError.Upstream("The upstream sent a malformed reply."));
        }
    }

    private static ChatChunk AsChunk(ChatCompletion completion) => new()
    {
        Id = completion.Id,
        Created = completion.Created,
        Model = completion.Model,
        Usage = completion.Usage,
        Choices = completion.Choices.Select(c => new ChunkChoice
        {
            Index = c.Index,
            FinishReason = c.FinishReason,
            Delta = new ChatDelta
            {
                Role = "assistant",
                Content = c.Message.Content,
                ReasoningContent = c.Message.ReasoningContent,
                ToolCalls = c.Message.ToolCalls?.Select((t, i) => new ToolCallDelta
                {
                    Index = i,
                    Id = t.Id,
                    Type = t.Type,
                    Function = new FunctionCallDelta { Name = t.Function.Name, Arguments = t.Function.Arguments },
                }).ToList(),
            },
        }).ToList(),
    };
}
