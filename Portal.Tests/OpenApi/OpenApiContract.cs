using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Portal.Gateway;

namespace Portal.Tests.OpenApi;

/// <summary>
/// The OpenAPI document Portal serves, read as a client reads it, and JSON Schema 2020-12 validation
/// (JsonSchema.Net) of bodies against the schema it gives for an operation, status and media type.
/// The document is registered as a base document, so its <c>$ref</c>s resolve as they are written.
/// </summary>
public sealed class OpenApiContract
{
    private static int _loaded;

    private readonly Uri _uri = new($"https://portal.test/openapi-{Interlocked.Increment(ref _loaded)}.json");
    private readonly BuildOptions _options = new() { SchemaRegistry = new SchemaRegistry() };

    /// <param name="closeReplies">
    /// Adds <c>additionalProperties: false</c> to every reply schema (all but the request's), so that a
    /// field Portal sends and the document does not list fails validation. The served document leaves
    /// objects open, as clients expect of an API that may grow.
    /// </param>
    public OpenApiContract(JsonObject document, bool closeReplies = true)
    {
        Document = document;
        var checkedCopy = document.DeepClone().AsObject();
        if (closeReplies)
        {
            foreach (var (name, schema) in checkedCopy["components"]!["schemas"]!.AsObject())
            {
                if (name != "ChatCompletionRequest")
                {
                    Close(schema!);
                }
            }
        }

        _options.SchemaRegistry.Register(_uri, new JsonElementBaseDocument(JsonSerializer.SerializeToElement(checkedCopy), _uri));
    }

    public JsonObject Document { get; }

    public static async Task<OpenApiContract> FetchAsync(PortalApplication app, bool closeReplies = true)
    {
        var response = await app.CreateClient().GetAsync(GatewayOpenApi.Path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new OpenApiContract(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), closeReplies);
    }

    /// <summary>The JSON pointer to the schema of one response body; the test fails if the document has none.</summary>
    public string ResponseSchema(string method, string path, int status, string mediaType = "application/json")
    {
        var pointer = $"/paths/{Escape(path)}/{method.ToLowerInvariant()}/responses/{status}/content/{Escape(mediaType)}/schema";
        Assert.True(At(pointer) is not null, $"the document gives no {mediaType} body for {status} on {method} {path}");
        return pointer;
    }

    /// <summary>The JSON pointer to the request body's schema of an operation.</summary>
    public string RequestSchema(string method, string path, string mediaType = "application/json")
    {
        var pointer = $"/paths/{Escape(path)}/{method.ToLowerInvariant()}/requestBody/content/{Escape(mediaType)}/schema";
        Assert.True(At(pointer) is not null, $"the document gives no {mediaType} request body for {method} {path}");
        return pointer;
    }

    public JsonNode? At(string pointer)
    {
        JsonNode? node = Document;
        foreach (var segment in pointer.Split('/').Skip(1))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(segment.Replace("~1", "/").Replace("~0", "~"), out var child) ? child : null;
        }

        return node;
    }

    public EvaluationResults Evaluate(string pointer, string json)
    {
        // The fragment is a JSON pointer, percent-encoded as a URI fragment ("{id}" is not allowed bare).
        var fragment = string.Join('/', pointer.Split('/').Select(Uri.EscapeDataString));
        var reference = new JsonObject { ["$ref"] = $"{_uri}#{fragment}" };
        var schema = JsonSchema.Build(JsonSerializer.SerializeToElement(reference), _options);
        using var instance = JsonDocument.Parse(json);
        return schema.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    public void AssertValid(string pointer, string json)
    {
        var results = Evaluate(pointer, json);
        Assert.True(results.IsValid, $"{json}\ndoes not match {pointer}:\n{Describe(results)}");
    }

    public void AssertInvalid(string pointer, string json)
    {
        Assert.False(Evaluate(pointer, json).IsValid, $"{json}\nmatches {pointer}, and should not");
    }

    /// <summary>
    /// A response's body validated against the document's schema for its status and media type, and
    /// the headers the document says it always has.
    /// </summary>
    public async Task<string> AssertReplyMatchesAsync(HttpResponseMessage response, string method, string path)
    {
        var body = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "(none)";
        AssertValid(ResponseSchema(method, path, status, mediaType), body);
        foreach (var (name, header) in At($"/paths/{Escape(path)}/{method.ToLowerInvariant()}/responses/{status}/headers")?.AsObject() ?? [])
        {
            var described = header!["$ref"] is { } reference ? At(reference.GetValue<string>()[1..])! : header;
            if (described["required"]?.GetValue<bool>() == true)
            {
                Assert.True(response.Headers.Contains(name), $"{status} on {method} {path} has no {name} header");
            }
        }

        return body;
    }

    public static string Describe(EvaluationResults results) => string.Join('\n',
        (results.Details ?? []).Append(results)
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}")));

    private static string Escape(string segment) => segment.Replace("~", "~0").Replace("/", "~1");

    private static void Close(JsonNode schema)
    {
        switch (schema)
        {
            case JsonObject obj:
                if (obj.ContainsKey("properties") && !obj.ContainsKey("additionalProperties"))
                {
                    obj["additionalProperties"] = false;
                }

                foreach (var (_, child) in obj.ToList())
                {
                    if (child is not null)
                    {
                        Close(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Close(item);
                    }
                }

                break;
        }
    }
}
