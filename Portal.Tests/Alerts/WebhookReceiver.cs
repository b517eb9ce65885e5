using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.Tests.Alerts;

/// <summary>One delivery the receiver got: its headers and the body exactly as sent (what a signature covers).</summary>
public sealed record WebhookDelivery(IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A user's webhook endpoint: Kestrel on a loopback port, answering the n-th delivery with the n-th
/// status (the last for every delivery after), recording each one raw.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly int[] _statuses;
    private readonly List<WebhookDelivery> _deliveries = [];

    private WebhookReceiver(int[] statuses)
    {
        _statuses = statuses;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public string Url { get; private set; } = "";

    public IReadOnlyList<WebhookDelivery> Deliveries
    {
        get
        {
            lock (_deliveries)
            {
                return [.. _deliveries];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync(params int[] statuses)
    {
        var receiver = new WebhookReceiver(statuses.Length == 0 ? [200] : statuses);
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single().TrimEnd('/') + "/portal-events";
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        int index;
        lock (_deliveries)
        {
            index = _deliveries.Count;
            _deliveries.Add(new WebhookDelivery(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
        }

        http.Response.StatusCode = _statuses[Math.Min(index, _statuses.Length - 1)];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
