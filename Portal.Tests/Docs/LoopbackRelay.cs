using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Docs;

/// <summary>
/// A real loopback port in front of an in-memory <see cref="PortalApplication"/>: programs outside the
/// test process (python, node) and SDKs with their own HTTP stack can then call it. Bodies are relayed
/// as they arrive, so streams stay streams.
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
    };

    private readonly WebApplication _relay;
    private readonly HttpClient _portal;

    private LoopbackRelay(WebApplication relay, HttpClient portal, Uri baseAddress)
    {
        _relay = relay;
        _portal = portal;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The API base URL as the docs show it, e.g. <c>http://127.0.0.1:41234/api/v1</c>.</summary>
    public string ApiBaseUrl => new Uri(BaseAddress, "/api/v1").ToString();

    public static async Task<LoopbackRelay> StartAsync(PortalApplication app)
    {
        var portal = app.CreateClient();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var relay = builder.Build();
        relay.Run(http => ForwardAsync(portal, http));
        await relay.StartAsync();
        var address = relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LoopbackRelay(relay, portal, new Uri(address));
    }

    private static async Task ForwardAsync(HttpClient portal, HttpContext http)
    {
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), http.Request.Path + http.Request.QueryString);
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }

        foreach (var (name, values) in http.Request.Headers)
        {
            if (!HopByHop.Contains(name) && !request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await portal.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        http.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                http.Response.Headers[name] = values.ToArray();
            }
        }

        await using var stream = await response.Content.ReadAsStreamAsync(http.RequestAborted);
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.StopAsync();
        await _relay.DisposeAsync();
        _portal.Dispose();
    }
}
