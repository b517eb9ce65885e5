using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

public static class UpstreamFixtures
{
    /// <summary>Configures a real upstream for a catalog model, its key encrypted as the admin pages do.</summary>
    public static async Task<ModelUpstream> AddUpstreamAsync(this PortalApplication app, string modelId, string baseUrl, string upstreamModel,
        string? apiKey = null, int priority = 0, int timeoutSeconds = 30, string? messagesBaseUrl = null)
    {
        var upstream = new ModelUpstream
        {
            ModelId = modelId,
            BaseUrl = baseUrl,
            UpstreamModel = upstreamModel,
            ProtectedApiKey = apiKey is null ? null : app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose).Protect(apiKey),
            Priority = priority,
            TimeoutSeconds = timeoutSeconds,
            MessagesBaseUrl = messagesBaseUrl,
        };
        await app.InStoreAsync(async db =>
        {
            db.ModelUpstreams.Add(upstream);
            return await db.SaveChangesAsync();
        });
        app.Services.GetRequiredService<ModelCatalog>().Invalidate();
        return upstream;
    }

    /// <summary>A loopback base URL where nothing listens: connecting is refused at once.</summary>
    public static string ClosedPortBaseUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/v1";
    }

    /// <summary>Posts a chat request and returns as soon as the headers are in, for reading a stream as it comes.</summary>
    public static Task<HttpResponseMessage> PostChatStreamingAsync(this HttpClient client, string json) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead);

    public static async Task<JsonObject> JsonBodyAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>The id Portal gives the completion: derived from the request id it answers with.</summary>
    public static string CompletionId(this HttpResponseMessage response) =>
        "chatcmpl-" + response.Headers.GetValues("x-request-id").Single();
}

/// <summary>Reads a <c>text/event-stream</c> event by event, as a client would.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    public static async Task<SseReader> OpenAsync(HttpResponseMessage response) =>
        new(await response.Content.ReadAsStreamAsync());

    /// <summary>The next <c>data:</c> payload, or null when the stream has ended.</summary>
    public async Task<string?> NextAsync()
    {
        while (await _reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        return null;
    }

    public async Task<List<string>> RestAsync()
    {
        var events = new List<string>();
        while (await NextAsync() is { } data)
        {
            events.Add(data);
        }

        return events;
    }

    public void Dispose() => _reader.Dispose();
}
