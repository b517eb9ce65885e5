using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Messages;

/// <summary>
/// Portal's errors in Anthropic's envelope, <c>{"type":"error","error":{"type","message"}}</c>, with
/// Anthropic's statuses (the table in docs/messages and ADR 30): 402 stays 402 as <c>billing_error</c>,
/// every 503 becomes 529 <c>overloaded_error</c>, which Anthropic's clients wait out and retry. Every
/// error under <c>/api/v1/messages</c> is written here, the route group's (key, rate limit) included.
/// </summary>
public static class MessagesErrors
{
    public const string Path = GatewayApi.Prefix + "/messages";

    /// <summary>Whether a request is the Messages API's, whose errors are Anthropic's.</summary>
    public static bool Applies(HttpContext http) => http.Request.Path.StartsWithSegments(Path);

    /// <summary>Anthropic's status and error type for a Portal error.</summary>
    public static (int Status, string Type) Map(ApiError error) => error.Status switch
    {
        401 => (401, "authentication_error"),
        402 => (402, "billing_error"),
        403 => (403, "permission_error"),
        404 => (404, "not_found_error"),
        413 => (413, "request_too_large"),
        429 => (429, "rate_limit_error"),
        503 or 529 => (529, "overloaded_error"),
        504 or 408 => (error.Status, "timeout_error"),
        >= 500 => (error.Status, "api_error"),
        _ => (error.Status, "invalid_request_error"),
    };

    public static byte[] Envelope(ApiError error) => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = Map(error).Type, ["message"] = error.Message },
    }, Wire.Json);

    /// <summary>Writes the error as the response, with <c>Retry-After</c> (seconds) when it has one.</summary>
    public static async Task WriteAsync(ApiError error, HttpResponse response)
    {
        response.StatusCode = Map(error).Status;
        if (error.RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var json = Envelope(error);
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Length;
        await response.Body.WriteAsync(json);
    }

    /// <summary>
    /// Anthropic's rate-limit headers beside Portal's <c>x-ratelimit-*</c> (RateLimitExtensions), written as
    /// the response starts: <c>anthropic-ratelimit-requests-limit</c>, <c>-remaining</c> and <c>-reset</c>
    /// (an RFC 3339 time), and the same for <c>-tokens-</c>.
    /// </summary>
    public static void AddRateLimitHeaders(HttpContext http)
    {
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            var now = time.GetUtcNow().ToUniversalTime();
            Mirror(headers, "requests", now);
            Mirror(headers, "tokens", now); // only when the key has a tokens-per-minute limit on the model (ADR 33)
            return Task.CompletedTask;
        });
    }

    private static void Mirror(IHeaderDictionary headers, string what, DateTimeOffset now)
    {
        if (headers.TryGetValue($"x-ratelimit-limit-{what}", out var limit))
        {
            headers[$"anthropic-ratelimit-{what}-limit"] = limit;
            headers[$"anthropic-ratelimit-{what}-remaining"] = headers[$"x-ratelimit-remaining-{what}"];
            if (ParseDuration(headers[$"x-ratelimit-reset-{what}"].ToString()) is { } reset)
            {
                // Rounded up to the second: the window is never said to open before it does.
                var at = now + reset + TimeSpan.FromTicks(TimeSpan.TicksPerSecond - 1);
                headers[$"anthropic-ratelimit-{what}-reset"] = at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Reads OpenAI's durations as RateLimitExtensions writes them: "250ms", "6s", "6m0s".</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        if (text.EndsWith("ms", StringComparison.Ordinal))
        {
            return int.TryParse(text[..^2], CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : null;
        }

        var minutes = 0;
        var m = text.IndexOf('m', StringComparison.Ordinal);
        if (m > 0 && !int.TryParse(text[..m], CultureInfo.InvariantCulture, out minutes))
        {
            return null;
        }

        var seconds = text[(m + 1)..].TrimEnd('s');
        return int.TryParse(seconds, CultureInfo.InvariantCulture, out var s) ? TimeSpan.FromMinutes(minutes) + TimeSpan.FromSeconds(s) : null;
    }
}
