using System.Text.Json.Serialization;
using Portal.Data;

namespace Portal.Gateway;

/// <summary>An <c>/api/v1</c> failure, written as <c>{"error":{"message","type","code","param"}}</c>, OpenAI's envelope, so its SDKs read our errors.</summary>
public sealed record ApiError(int Status, string Code, string Type, string Message, string? Param = null)
{
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// A provider's refusal of the request, relayed as the provider worded it (ADR 21): the envelope's
    /// <c>code</c> is then <see cref="RelayedCode"/>, the provider's own (null when it sent none), while
    /// <see cref="Code"/> is what usage records and logs keep.
    /// </summary>
    public bool Relayed { get; init; }

    public string? RelayedCode { get; init; }

    public static ApiError InvalidRequest(string message, string? param = null) =>
        new(400, "invalid_request_error", "invalid_request_error", message, param);

    public static ApiError Unsupported(string param, string modelId) =>
        new(400, "unsupported_parameter", "invalid_request_error", $"'{param}' is not supported by the model '{modelId}'.", param);

    public static ApiError UnsupportedStructuredOutputs(string modelId) =>
        new(400, "unsupported_parameter", "invalid_request_error",
            $"'response_format' of type 'json_schema' (structured outputs) is not supported by the model '{modelId}'. " +
            "Use type 'json_object' and describe the shape in the prompt, or a model that supports structured outputs (see /api/v1/models).",
            "response_format");

    public static ApiError InvalidKey(string message) =>
        new(401, "invalid_api_key", "authentication_error", message);

    public static ApiError KeyPaused() =>
        new(401, "api_key_paused", "authentication_error", "This API key is paused. Its owner can resume it at /settings/apikeys.");

    public static ApiError InsufficientQuota(string message) =>
        new(402, "insufficient_quota", "insufficient_quota", message);

    public static ApiError Forbidden(string message, string? param = null) =>
        new(403, "permission_denied", "permission_error", message, param);

    public static ApiError EmailNotVerified() =>
        new(403, "email_not_verified", "permission_error",
            "This key's account has not verified its email address, so it may not use the API yet. Follow the link mailed at sign-up, or send a new one from /settings/profile.");

    public static ApiError ModelNotFound(string model) =>
        new(404, "model_not_found", "invalid_request_error", $"The model '{model}' does not exist or is not available.", "model");

    public static ApiError NotFound(string method, string path) =>
        new(404, "not_found", "invalid_request_error", $"There is no {method} {path} in this API. See /docs for the endpoints.");

    public static ApiError MethodNotAllowed(string method, string path) =>
        new(405, "method_not_allowed", "invalid_request_error", $"{path} does not accept {method}.");

    public static ApiError PayloadTooLarge(long limit) =>
        new(413, "request_too_large", "invalid_request_error", $"The request body is larger than {limit / (1024 * 1024)} MB.");

    public static ApiError UnreadableBody(int status, string reason) =>
        new(status is >= 400 and < 500 ? status : 400, "invalid_request_error", "invalid_request_error", $"The request body could not be read: {reason}");

    public static ApiError UnsupportedMediaType() =>
        new(415, "invalid_request_error", "invalid_request_error", "Send the body as JSON with 'Content-Type: application/json'.");

    public static ApiError RateLimited(TimeSpan retryAfter, int limit) =>
        new(429, "rate_limit_exceeded", "rate_limit_error",
            $"Rate limit of {limit} requests per minute reached for this key. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.")
        { RetryAfter = retryAfter };

    /// <summary>The key's tokens-per-minute bucket on the model has less room than the request's worst case (ADR 33).</summary>
    public static ApiError TokensRateLimited(TimeSpan retryAfter, int limit, string modelId, long requested, long remaining) =>
        new(429, "rate_limit_exceeded", "rate_limit_error",
            $"Rate limit of {Count(limit)} tokens per minute (TPM) reached for this key on '{modelId}': this request may use up to {Count(requested)} tokens " +
            $"(its prompt plus max_tokens) and {Count(remaining)} are left. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s, or lower max_tokens.")
        { RetryAfter = retryAfter };

    public static ApiError TooManyInvalidKeys(TimeSpan retryAfter) =>
        new(429, "rate_limit_exceeded", "rate_limit_error",
            $"Too many requests with invalid API keys from your address. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.")
        { RetryAfter = retryAfter };

    public static ApiError TooManyRefusedRequests(TimeSpan retryAfter, int limit) =>
        new(429, "too_many_refused_requests", "rate_limit_error",
            $"More than {limit} of this account's requests were refused in the last minute, so its requests are refused until the minute is over. " +
            $"Fix what the earlier errors said (balance, model, request) before retrying. Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.")
        { RetryAfter = retryAfter };

    public static ApiError Upstream(string message) => new(502, "upstream_error", "upstream_error", message);

    public static ApiError UpstreamTimeout(string message) => new(504, "upstream_timeout", "upstream_error", message);

    public static ApiError RequestTimeout(TimeSpan deadline) =>
        new(504, "request_timeout", "server_error", $"The request ran longer than the {deadline.TotalSeconds:0} s Portal allows and was stopped; what was delivered is charged.");

    public static ApiError Unavailable() =>
        new(503, "service_unavailable", "service_unavailable", "The API is switched off by an administrator. Try again later.");

    public static ApiError Busy(int smallBodyBytes) =>
        new(503, "server_busy", "service_unavailable",
            $"Portal is holding as many large request bodies as it may at once. Retry in a moment; bodies up to {smallBodyBytes / 1024} KB are always read.")
        { RetryAfter = TimeSpan.FromSeconds(1) };

    /// <summary>The store is down, refusing connections or has none free (<see cref="StoreOutage"/>): an outage to retry, not a bug.</summary>
    public static ApiError StoreUnavailable() =>
        new(503, "service_unavailable", "service_unavailable",
            $"Portal cannot reach its database right now, or has no connection to it free. Nothing was charged for this request; retry it in {StoreOutage.RetryAfter.TotalSeconds:0} seconds.")
        { RetryAfter = StoreOutage.RetryAfter };

    public static ApiError ShuttingDown() =>
        new(503, "service_unavailable", "service_unavailable", "Portal is restarting. Retry the request in a few seconds.");

    public static ApiError Internal(string requestId) =>
        new(500, "internal_error", "server_error", $"Something went wrong on our side. Quote request id {requestId} if you report it.");

    private static string Count(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    public ErrorEnvelope ToEnvelope() => new(new ErrorBody(Message, Type, Relayed ? RelayedCode : Code, Param));

    /// <summary>Writes this error as the response, with <c>Retry-After</c> when it has one; in Anthropic's envelope under <c>/api/v1/messages</c>.</summary>
    public Task WriteAsync(HttpResponse response)
    {
        if (Messages.MessagesErrors.Applies(response.HttpContext))
        {
            return Messages.MessagesErrors.WriteAsync(this, response); // Anthropic's envelope (ADR 30)
        }

        response.StatusCode = Status;
        if (RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return response.WriteAsJsonAsync(ToEnvelope(), Wire.Json);
    }

    public ApiErrorResult ToResult() => new(this);
}

/// <summary>An <see cref="ApiError"/> as an endpoint's result.</summary>
public sealed class ApiErrorResult(ApiError error) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext) => error.WriteAsync(httpContext.Response);
}

public sealed record ErrorEnvelope(ErrorBody Error);

public sealed record ErrorBody(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param);
