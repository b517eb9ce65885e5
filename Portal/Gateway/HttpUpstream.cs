using System.Buffers;
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
    /// <summary>How much of an error body is read: providers' error envelopes are a few hundred bytes.</summary>
    private const int ErrorBodyBytes = 64 * 1024;
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
                // silent connection here is retried like a failed connect. A reply that arrived but is
                // unreadable or too large is not: the provider has done the work and billed for it.
                var reader = new UpstreamReader(response, upstream, options.Value, logger);
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
                    if (!e.Retryable)
                    {
                        throw;
                    }

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
        var detail = await SafeDetailAsync(response, timeout.Token);
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date - DateTimeOffset.UtcNow)
            : null;
        response.Dispose();
        var retryable = status == (int)HttpStatusCode.TooManyRequests || status >= 500;
        return (null, ApiError.Upstream($"The upstream answered HTTP {status}{detail}."), retryable, retryAfter);
    }

    /// <summary>The client's body with the upstream's model name, the effective max_tokens and, on a stream, usage asked for.</summary>
    /// <remarks>The hold counts these bytes too: a field added here must fit <see cref="TokenEstimator.ForwardedFieldsBytes"/> (ADR 13).</remarks>
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
    /// may echo credentials, and they must never reach a client or a log. Only the body's first
    /// <see cref="ErrorBodyBytes"/> are read, within the attempt's timeout: the rest is dropped with the
    /// response, so a provider cannot make Portal buffer (or wait for) a body of any size.
    /// </summary>
    private static async Task<string> SafeDetailAsync(HttpResponseMessage response, CancellationToken timeout)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ErrorBodyBytes);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(timeout);
            var length = await body.ReadAtLeastAsync(buffer.AsMemory(0, ErrorBodyBytes), ErrorBodyBytes, throwOnEndOfStream: false, timeout);
            var message = ErrorMessage(buffer.AsSpan(0, length), whole: length < ErrorBodyBytes);
            if (string.IsNullOrWhiteSpace(message))
            {
                return "";
            }

            message = KeyLike().Replace(message, "[redacted]");
            return ": " + (message.Length > 300 ? message[..300] + "…" : message);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // No detail: a client that left is noticed by the caller's next step.
            return "";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <c>error.message</c> of an OpenAI-style error body, read as far as the body has arrived: a message
    /// that comes before whatever was cut off is still found.
    /// </summary>
    private static string? ErrorMessage(ReadOnlySpan<byte> json, bool whole)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: whole, state: default);
        try
        {
            var inError = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    inError = reader.ValueTextEquals("error"u8);
                }
                else if (inError && reader.CurrentDepth == 2 && reader.ValueTextEquals("message"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON, or not the envelope: no detail.
        }

        return null;
    }

    [GeneratedRegex(@"(sk|pk|rk|key|token|bearer)[-_ :=]*[A-Za-z0-9._\-]{8,}|[A-Za-z0-9_\-]{32,}", RegexOptions.IgnoreCase)]
    private static partial Regex KeyLike();
}
