using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Portal.Admin;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Billing;
using Portal.Gateway.Simulation;
using Portal.Observability;
using Portal.Usage;

using Portal.Status;

using Portal.RateLimits;

namespace Portal.Gateway;

public static class GatewayEndpoints
{
    public const string Prefix = "/api/v1";
    private const string CallerItem = "portal.caller";
    private const string RequestIdItem = "portal.request-id";

    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SimulationOptions>().BindConfiguration(SimulationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<ApiKeyResolver>();
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<LedgerWriter>();                // group commit of holds, settlements, usage records
        builder.Services.AddSingleton<CreditsLedger>();
        builder.Services.AddSingleton<RequestRateLimiter>();
        builder.Services.AddSharedRateLimits();                       // ADR 7: in the store when instances share it
        builder.Services.AddSingleton<SimulatedUpstream>();
        // One pooled client for every provider: connections are reused, DNS refreshed every few minutes.
        builder.Services.AddHttpClient<HttpUpstream>()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The factory's handlers log every call at Information (four lines per request, the
            // biggest cost on the hot path); HttpUpstream logs the failures that matter itself.
            .RemoveAllLoggers();
        builder.Services.AddSingleton<ChatGateway>();
        builder.Services.AddGatewayOpenApi();                         // the OpenAPI document at /api/v1/openapi.json
        builder.Services.AddSingleton<CompletionDrain>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompletionDrain>());
        // The host must wait longer than the grace period, or it stops before streams are settled.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
        {
            var needed = TimeSpan.FromSeconds(gateway.Value.ShutdownGraceSeconds + 10);
            host.ShutdownTimeout = host.ShutdownTimeout > needed ? host.ShutdownTimeout : needed;
        });
        return builder;
    }

    /// <summary>
    /// Everything under <c>/api/v1</c> answers in the OpenAI error envelope, never HTML: unknown
    /// routes, wrong methods and unexpected exceptions included. Runs before the browser pipeline.
    /// </summary>
    public static IApplicationBuilder UseGatewayErrors(this IApplicationBuilder app) =>
        app.UseWhen(IsApi, api => api.Use(async (http, next) =>
        {
            var requestId = NewRequestId(http.RequestServices.GetRequiredService<TimeProvider>());
            http.Items[RequestIdItem] = requestId;
            http.Response.Headers["x-request-id"] = requestId;
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
                logger.LogError(e, "Unhandled error in request {RequestId}", requestId);
                http.Response.Clear();
                http.Response.Headers["x-request-id"] = requestId;
                await ApiError.Internal(requestId).WriteAsync(http.Response);
            }
        }));

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        // The Produces and WithApiErrors metadata only describes the endpoints (GatewayOpenApi): the
        // handlers write their replies themselves. 401, 429 and 503 come from the key filter, 500 from
        // UseGatewayErrors, so every operation has them.
        var api = endpoints.MapGroup(Prefix).AddEndpointFilter(AuthenticateAsync).DisableAntiforgery()
            .WithApiErrors(401, 429, 500, 503);
        api.MapGet("/models", ListModelsAsync)
            .WithName("listModels").WithTags("Models").WithSummary("List the models you can call")
            .Produces<ModelList>();
        api.MapGet("/models/{**id}", GetModelAsync)
            .WithName("retrieveModel").WithTags("Models").WithSummary("Get one model by id or alias")
            .Produces<ApiModel>().WithApiErrors(404)
            .AddOpenApiOperationTransformer(GatewayOpenApi.DescribeModelIdAsync);
        api.MapGet("/credits", GetCreditsAsync)
            .WithName("getCredits").WithTags("Account").WithSummary("The key owner's credit balance")
            .Produces<CreditsReply>();
        api.MapGet("/key", GetKey)
            .WithName("getKey").WithTags("Account").WithSummary("The key you are calling with")
            .Produces<KeyReply>();
        // The server stops reading past the limit: a chunked body can't make Portal buffer more.
        api.MapPost("/chat/completions", ChatCompletions.HandleAsync).WithMetadata(new RequestSizeLimitAttribute(ChatCompletions.MaxBodyBytes + 1))
            .WithName("createChatCompletion").WithTags("Chat").WithSummary("Generate a reply to a conversation, whole or streamed")
            .Produces<ChatCompletion>().WithApiErrors(400, 402, 403, 404, 408, 413, 415, 502, 504)
            .AddOpenApiOperationTransformer(GatewayOpenApi.DescribeChatCompletionsAsync);
        endpoints.MapGatewayOpenApi();

        return endpoints;
    }

    public static AuthenticatedKey Caller(this HttpContext http) => (AuthenticatedKey)http.Items[CallerItem]!;

    public static string RequestId(this HttpContext http) =>
        (string?)http.Items[RequestIdItem] ?? NewRequestId(http.RequestServices.GetRequiredService<TimeProvider>());

    private static bool IsApi(HttpContext http) => http.Request.Path.StartsWithSegments(Prefix);

    /// <summary>
    /// "req_" and 24 characters of 32 symbols (0-9, a-v, in that order): the time in milliseconds (50
    /// bits), then 70 random bits from one call to the system's generator. Ids made later sort later,
    /// so the ledger's and usage records' request-id indexes grow at their right edge instead of
    /// taking each insert to a random page (a batch commit then writes a few pages, not one per
    /// request). RandomNumberGenerator.GetString is avoided: on .NET 8 it draws each character
    /// separately, 24 calls into OpenSSL.
    /// </summary>
    public static string NewRequestId(TimeProvider time)
    {
        const string Symbols = "0123456789abcdefghijklmnopqrstuv";
        Span<char> id = stackalloc char[28];
        "req_".CopyTo(id);
        var millis = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 9; i >= 0; i--, millis >>= 5)
        {
            id[4 + i] = Symbols[(int)(millis & 31)];
        }

        Span<byte> bits = stackalloc byte[10]; // 70 bits used, one spare byte so each read may take two
        RandomNumberGenerator.Fill(bits[..9]);
        for (var i = 0; i < 14; i++)
        {
            var at = 5 * i; // character i takes bits 5i to 5i+4
            var pair = bits[at / 8] | bits[at / 8 + 1] << 8;
            id[14 + i] = Symbols[(pair >> (at % 8)) & 31];
        }

        return new string(id);
    }

    /// <summary>Bearer key → caller, then the key's rate limit; the limit headers go on every keyed response.</summary>
    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!await http.RequestServices.GetRequiredService<ApiSwitch>().IsOnAsync(http.RequestAborted))
        {
            return ApiError.Unavailable().ToResult();
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return ApiError.InvalidKey("Send your API key as 'Authorization: Bearer sk-portal-…'. Create one at /settings/apikeys.").ToResult();
        }

        var resolver = http.RequestServices.GetRequiredService<ApiKeyResolver>();
        var caller = await resolver.ResolveAsync(header["Bearer ".Length..].Trim(), http.RequestAborted);
        if (caller is null)
        {
            return ApiError.InvalidKey("The API key is not valid: unknown, revoked or expired.").ToResult();
        }

        http.Items[CallerItem] = caller;
        var decision = await http.RequestServices.GetRequiredService<IRateLimiter>().AcquireAsync(caller.KeyId, caller.RateLimitPerMinute, http.RequestAborted);
        var headers = http.Response.Headers;
        headers["x-ratelimit-limit-requests"] = decision.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-requests"] = decision.Remaining.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-requests"] = FormatDuration(decision.Reset);
        if (decision.Allowed)
        {
            return await next(context);
        }

        var refused = ApiError.RateLimited(decision.RetryAfter, decision.Limit);
        if (HttpMethods.IsPost(http.Request.Method))
        {
            http.RequestServices.GetRequiredService<GatewayMetrics>().Completed("unknown", refused.Status, TimeSpan.Zero, null, 0, 0, 0);
            // A refused completion is still a request of this key's: it belongs in the usage records.
            await http.RequestServices.GetRequiredService<CreditsLedger>().RecordAsync(new UsageRecord
            {
                RequestId = http.RequestId(),
                UserId = caller.UserId,
                ApiKeyId = caller.KeyId,
                ModelId = "unknown",
                Status = refused.Status,
                ErrorCode = refused.Code,
                Provenance = Provenance.Reported,
                CreatedAt = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime,
            });
        }

        return refused.ToResult();
    }

    /// <summary>OpenAI's style: "1s", "6m0s", "250ms".</summary>
    private static string FormatDuration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => $"{Math.Ceiling(span.TotalMilliseconds):0}ms",
        { TotalMinutes: < 1 } => $"{Math.Ceiling(span.TotalSeconds):0}s",
        _ => $"{(int)span.TotalMinutes}m{Math.Ceiling(span.TotalSeconds % 60):0}s",
    };

    private static async Task<IResult> ListModelsAsync(ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var models = await catalog.AllAsync(cancellationToken);
        return TypedResults.Json(new ModelList { Data = models.Where(m => m.Enabled).Select(ApiModel.From) }, Wire.Json);
    }

    private static async Task<IResult> GetModelAsync(string id, ModelCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.FindAsync(id, cancellationToken) is { } model
            ? TypedResults.Json(ApiModel.From(model), Wire.Json)
            : ApiError.ModelNotFound(id).ToResult();

    private static async Task<IResult> GetCreditsAsync(HttpContext http, CreditsLedger ledger)
    {
        var summary = await ledger.SummaryAsync(http.Caller().UserId, http.RequestAborted);
        return TypedResults.Json(new CreditsReply(CreditsData.From(summary)), Wire.Json);
    }

    private static IResult GetKey(HttpContext http, IOptions<GatewayOptions> options) =>
        TypedResults.Json(new KeyReply(KeyData.From(http.Caller(), options.Value.DefaultRequestsPerMinute)), Wire.Json);
}
