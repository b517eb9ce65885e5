using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI.Responses;

namespace Portal.Tests.Gateway;

#pragma warning disable OPENAI001 // the SDK's Responses client is marked experimental

public static class ResponsesFixtures
{
    /// <summary>The official OpenAI .NET SDK's Responses client, talking to the in-memory Portal.</summary>
    public static ResponsesClient OpenAiResponses(this PortalApplication app, string key) =>
        new(new ApiKeyCredential(key), new ResponsesClientOptions
        {
            Endpoint = new Uri(app.Server.BaseAddress, "/api/v1"),
            Transport = new HttpClientPipelineTransport(app.CreateClient()),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
}
