// What .NET itself costs to relay an OpenAI-style request, measured by the same harness as Portal:
//   Floor yarp   — YARP, Microsoft's reverse proxy on ASP.NET Core, forwarding /v1/* as is;
//   Floor aspnet — a minimal Kestrel endpoint that sends the body on with HttpClient and copies the
//                  reply back, flushing as bytes arrive.
// Neither authenticates, parses, bills nor records anything. FLOOR_UPSTREAM is the upstream's base
// URL without /v1 (e.g. http://127.0.0.1:18100).
using Yarp.ReverseProxy.Configuration;

var mode = args.FirstOrDefault() ?? throw new ArgumentException("usage: Floor yarp|aspnet");
var upstream = Environment.GetEnvironmentVariable("FLOOR_UPSTREAM") ?? throw new ArgumentException("FLOOR_UPSTREAM is not set");

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
if (mode == "yarp")
{
    builder.Services.AddReverseProxy().LoadFromMemory(
        [new RouteConfig { RouteId = "v1", ClusterId = "upstream", Match = new RouteMatch { Path = "/v1/{**rest}" } }],
        [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = upstream } } }]);
}
else
{
    builder.Services.AddHttpClient("upstream", client => client.BaseAddress = new Uri(upstream));
}

var app = builder.Build();
if (mode == "yarp")
{
    app.MapReverseProxy();
}
else
{
    app.MapPost("/v1/chat/completions", async (HttpContext http, IHttpClientFactory clients) =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StreamContent(http.Request.Body),
        };
        request.Content.Headers.ContentType = new("application/json");
        using var reply = await clients.CreateClient("upstream").SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        http.Response.StatusCode = (int)reply.StatusCode;
        http.Response.ContentType = reply.Content.Headers.ContentType?.ToString();
        await using var body = await reply.Content.ReadAsStreamAsync(http.RequestAborted);
        await body.CopyToAsync(http.Response.Body, http.RequestAborted); // Kestrel flushes every write
    });
}

app.Run();
