using Portal.Data;
using Portal.Observability;

namespace Portal.Gateway;

/// <summary>
/// Everything under <c>/api/v1</c> answers in the OpenAI error envelope, never HTML: unknown
/// routes, wrong methods and unexpected exceptions included; a store outage is a 503 to retry. Runs before the browser pipeline, and
/// gives each API request its id (the <c>x-request-id</c> header and the log scope).
/// </summary>
public static class GatewayErrors
{
    public static IApplicationBuilder UseGatewayErrors(this IApplicationBuilder app) =>
        app.UseWhen(http => http.Request.Path.StartsWithSegments(GatewayApi.Prefix), api => api.Use(AnswerInTheEnvelopeAsync));

    private static async Task AnswerInTheEnvelopeAsync(HttpContext http, RequestDelegate next)
    {
        var requestId = RequestIds.New(http.RequestServices.GetRequiredService<TimeProvider>());
        http.SetRequestId(requestId);
        http.Response.Headers["x-request-id"] = requestId;
        if (Messages.MessagesErrors.Applies(http))
        {
            Messages.MessagesErrors.AddRateLimitHeaders(http);
        }

        // The gateway's category, so that a request's log lines are found in one place.
        var logger = http.RequestServices.GetRequiredService<ILogger<ChatGateway>>();
        using var scope = logger.BeginScope(new RequestLogScope(requestId));
        try
        {
            await next(http);
            // Routing's own answers, which have no body: no such path, or a wrong method on a known
            // one (our handlers never answer 405 themselves).
            if (!http.Response.HasStarted && http.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
            {
                await ApiError.MethodNotAllowed(http.Request.Method, http.Request.Path).WriteAsync(http.Response);
            }
            else if (!http.Response.HasStarted && http.GetEndpoint() is null)
            {
                await ApiError.NotFound(http.Request.Method, http.Request.Path).WriteAsync(http.Response);
            }
        }
        catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
        {
            // A store that is down or out of connections is an outage the client should wait out and
            // retry, not a bug to report; the store's own error says which (ADR 19).
            var outage = StoreOutage.IsOutage(e);
            if (outage)
            {
                StoreOutage.ForgetCutConnections(e);
                logger.LogWarning("Request {RequestId} refused: the store is unavailable ({Reason})", requestId, e.GetBaseException().Message);
            }
            else
            {
                logger.LogError(e, "Unhandled error in request {RequestId}", requestId);
            }

            http.Response.Clear();
            http.Response.Headers["x-request-id"] = requestId;
            await (outage ? ApiError.StoreUnavailable() : ApiError.Internal(requestId)).WriteAsync(http.Response);
        }
    }
}
