using System.Text;
using Anthropic;

namespace Portal.Tests.Gateway;

public static class MessagesFixtures
{
    /// <summary>The official Anthropic .NET SDK, talking to the in-memory Portal: its base URL is <c>/api</c>, to which it adds <c>/v1/messages</c>.</summary>
    public static AnthropicClient Anthropic(this PortalApplication app, string key) => new()
    {
        ApiKey = key,
        BaseUrl = new Uri(app.Server.BaseAddress, "/api").ToString(),
        HttpClient = app.CreateClient(),
        MaxRetries = 0,
    };

    public static Task<HttpResponseMessage> PostMessagesAsync(this HttpClient client, string json, string path = "/api/v1/messages") =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
