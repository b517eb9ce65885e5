namespace Portal.Security;

/// <summary>
/// Headers every response carries, pages and API alike. The CSP is as tight as Blazor Server and
/// MudBlazor allow: scripts only from this origin (no inline script, no eval), the circuit's WebSocket
/// to this origin ('self' covers ws/wss of the same host in CSP 3), and no framing by anyone.
/// Styles need 'unsafe-inline': MudBlazor writes its theme as a <c>style</c> element and sets
/// <c>style</c> attributes when it renders (ADR 11).
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            // Set as the response starts, not now: error handlers clear the headers of a failed
            // response before writing their own, and those must carry these too.
            http.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                return Task.CompletedTask;
            }, http.Response);
            return next(http);
        });
}
