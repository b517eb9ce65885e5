using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Portal.Gateway;

/// <summary>
/// The OpenAPI 3.1 description of <c>/api/v1</c>, served anonymously at <see cref="Path"/>. It is
/// generated from the endpoints' metadata (<c>Produces</c>, <see cref="WithApiErrors"/>) and the
/// transformers below once, on the first request for it, and then kept: none of this runs on an API
/// request.
/// </summary>
public static class GatewayOpenApi
{
    public const string DocumentName = "v1";
    public const string Path = GatewayApi.Prefix + "/openapi.json";

    /// <summary>The <c>data:</c> lines of a stream, described on the <c>text/event-stream</c> media type
    /// (OpenAPI 3.1 has no keyword for the items of a stream; 3.2's <c>itemSchema</c> came later).</summary>
    public const string StreamDataExtension = "x-sse-data";

    private const string BearerScheme = "bearer";
    private const string JsonType = "application/json";
    private const string EventStreamType = "text/event-stream";
    private const string ChatRequestSchemaId = "ChatCompletionRequest";
    private const string ChunkSchemaId = nameof(ChatChunk);
    private const string ErrorSchemaId = nameof(ErrorEnvelope);

    /// <summary>What each error status means on /api/v1; the body is always <see cref="ErrorEnvelope"/>.</summary>
    private static readonly Dictionary<int, string> ErrorMeanings = new()
    {
        [400] = "`invalid_request_error`: the body is not valid JSON, or a field is missing or invalid (`param` names it). `unsupported_parameter`: the model does not support a parameter. Or the model's provider refused the request (context length, content policy, an invalid parameter): then `message`, `type`, `code` (possibly null) and `param` are the provider's.",
        [401] = "`invalid_api_key`: no `Authorization: Bearer` key, or an unknown, revoked or expired one.",
        [402] = "`insufficient_quota`: the balance, or the key's spend cap, does not cover the request's worst case; the message says what `max_tokens` the balance affords.",
        [403] = "`permission_denied`: this key may not use the model (`param` is `model`).",
        [404] = "`model_not_found`: no enabled model has this id or alias.",
        [408] = "`invalid_request_error`: the body arrived too slowly.",
        [413] = "`request_too_large`: the body is larger than 8 MB. Or the model's provider found the request too large: then the fields are the provider's.",
        [415] = "`invalid_request_error`: the body was not sent as JSON.",
        [429] = "`rate_limit_exceeded`: the key's requests per minute are used up; `Retry-After` says when to try again.",
        [500] = "`internal_error`: something unexpected went wrong; quote the `x-request-id` when reporting it.",
        [502] = "`upstream_error`: every upstream of the model failed before any of the reply was sent, or refused Portal's own configuration (its key, its model name).",
        [503] = "`service_unavailable`: an administrator switched the API off, Portal is restarting, or its database is unavailable (then with `Retry-After`, and nothing charged); `server_busy`: too many large bodies at once.",
        [504] = "`upstream_timeout`: the upstream did not answer in time.",
    };

    /// <summary>The response headers, described once under components and referred to.</summary>
    private static readonly Dictionary<string, OpenApiHeader> Headers = new()
    {
        ["x-request-id"] = Header("Identifies the request in Portal's records; quote it when reporting a problem.", required: true),
        ["x-ratelimit-limit-requests"] = Header("The key's requests per minute.", type: JsonSchemaType.Integer),
        ["x-ratelimit-remaining-requests"] = Header("Requests left in the current window.", type: JsonSchemaType.Integer),
        ["x-ratelimit-reset-requests"] = Header("When the window has room again, e.g. \"1s\", \"250ms\", \"6m0s\"."),
        ["Retry-After"] = Header("Seconds to wait before retrying.", required: true, type: JsonSchemaType.Integer),
    };

    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services)
    {
        // The schema generator names properties with the HTTP JSON options, while /api/v1 writes with
        // Wire.Json (nothing in Portal serializes through these options): give them Wire.Json's names.
        // Numbers strict: the Web defaults would describe every number as "a number or a numeric
        // string", and Portal never writes numbers as strings.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = Wire.Json.PropertyNamingPolicy;
            json.SerializerOptions.DefaultIgnoreCondition = Wire.Json.DefaultIgnoreCondition;
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            // /api/v1 only: no pages, health or metrics endpoints.
            options.ShouldInclude = api => api.RelativePath?.StartsWith(GatewayApi.Prefix[1..] + "/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer(DescribeDocumentAsync);
            options.AddOperationTransformer(DescribeOperationAsync);
            options.AddSchemaTransformer(RequireWrittenProperties);
        });
        services.AddSingleton<OpenApiJson>();
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayOpenApi(this IEndpointRouteBuilder endpoints)
    {
        // Outside the keyed group: the description of a public contract needs no key. The document
        // only changes with a new release, so clients and proxies may keep it for an hour.
        endpoints.MapGet(Path, async (HttpContext http, OpenApiJson document) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Bytes(await document.GetAsync(), "application/json; charset=utf-8");
        }).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>Declares that these statuses answer in the error envelope (<see cref="ErrorMeanings"/> says what each means).</summary>
    public static TBuilder WithApiErrors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorEnvelope), [JsonType]));
        }

        return builder;
    }

    private static Task DescribeDocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Portal API",
            Version = "1",
            Description = """
                Portal's OpenAI-compatible API: any OpenAI SDK works with this server URL as its base URL.

                Authenticate with your Portal API key: `Authorization: Bearer sk-portal-…`.

                Every error, whatever its status, is the JSON envelope `{"error": {"message", "type", "code", "param"}}`
                (`ErrorEnvelope`), never an HTML page; an unknown path answers 404 `not_found` and a wrong method
                405 `method_not_allowed` in it too. Every response carries `x-request-id`. Request fields Portal does
                not know are passed on to the model's provider. The guides are at `/docs`.
                """,
        };
        // Paths are relative to the server, as the docs and the SDKs' base URL name them; a relative
        // server URL resolves against wherever this document was fetched from.
        document.Servers = [new OpenApiServer { Url = GatewayApi.Prefix, Description = "This Portal" }];
        var paths = new OpenApiPaths();
        foreach (var (path, item) in document.Paths)
        {
            paths[path[GatewayApi.Prefix.Length..]] = item;
        }

        document.Paths = paths;
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "sk-portal-…",
            Description = "A Portal API key, created on the API keys page (/settings/apikeys).",
        };
        // The headers the operations refer to (DescribeOperationAsync), described once.
        document.Components.Headers ??= new Dictionary<string, IOpenApiHeader>();
        foreach (var (name, header) in Headers)
        {
            document.Components.Headers[name] = header;
        }

        return Task.CompletedTask;
    }

    /// <summary>What every operation shares: the key, the headers of every response, what each error means.</summary>
    private static Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document;
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse described)
            {
                continue;
            }

            if (int.TryParse(status, out var code) && ErrorMeanings.TryGetValue(code, out var meaning))
            {
                described.Description = meaning;
            }

            // The rate-limit headers are set once the key is known, so never on a 401. They are not
            // required: a 503 from the API switch comes before the key is read, and a 500 clears them.
            var names = status switch
            {
                "401" => ["x-request-id"],
                "429" => ["x-request-id", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "Retry-After"],
                _ => new[] { "x-request-id", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests" },
            };
            described.Headers = names.ToDictionary(name => name, IOpenApiHeader (name) => new OpenApiHeaderReference(name, document));
        }

        return Task.CompletedTask;
    }

    private static OpenApiHeader Header(string description, bool required = false, JsonSchemaType type = JsonSchemaType.String) =>
        new() { Description = description, Required = required, Schema = new OpenApiSchema { Type = type } };

    /// <summary>
    /// Wire.Json leaves out nulls and nothing else, so the properties in every reply are exactly those
    /// whose type cannot be null, and those written even when null (the error's <c>param</c>). This
    /// replaces the generator's guess, which requires every constructor parameter, nullable or not.
    /// </summary>
    private static Task RequireWrittenProperties(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 })
        {
            return Task.CompletedTask;
        }

        schema.Required = context.JsonTypeInfo.Properties
            .Where(property => !property.IsGetNullable
                || property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: false) is [JsonIgnoreAttribute { Condition: JsonIgnoreCondition.Never }])
            .Select(property => property.Name)
            .ToHashSet();
        return Task.CompletedTask;
    }

    /// <summary><c>POST /chat/completions</c>: its body, checked by hand in <see cref="ChatRequestValidator"/>, and its stream.</summary>
    internal static async Task DescribeChatCompletionsAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        document.AddComponent(ChatRequestSchemaId, ChatRequestSchema());
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "A chat completion request, as OpenAI's API takes it; fields not listed here are passed on to the model's provider.",
            Content = new Dictionary<string, OpenApiMediaType> { [JsonType] = new() { Schema = new OpenApiSchemaReference(ChatRequestSchemaId, document) } },
        };

        document.AddComponent(ChunkSchemaId, await context.GetOrCreateSchemaAsync(typeof(ChatChunk), cancellationToken: cancellationToken));
        var ok = (OpenApiResponse)operation.Responses!["200"];
        ok.Description = "The reply: one `chat.completion` object, or with `stream: true` a stream of server-sent events.";
        ok.Content![EventStreamType] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = """
                    Server-sent events, sent with `stream: true`. Each event is one `data:` line carrying a
                    `chat.completion.chunk` object (`ChatChunk`): `choices[].delta` holds the increments of `role`,
                    `content`, `reasoning_content` and `tool_calls`; the last choice chunk has `finish_reason`; with
                    `stream_options.include_usage` a final chunk has `choices: []` and `usage`. The stream ends with
                    `data: [DONE]`. Every field the provider writes in a chunk (`logprobs`, `system_fingerprint`, filter
                    results…) is passed on as it wrote it. If it fails after it has begun, the last event is the error envelope
                    (`ErrorEnvelope`) instead, and no `[DONE]` follows. Comment lines (`: keep-alive`) may come
                    while the model is silent. `x-sse-data` gives the schema of the JSON on the `data:` lines.
                    """,
            },
            Extensions = new Dictionary<string, IOpenApiExtension>
            {
                [StreamDataExtension] = new JsonNodeExtension(new JsonObject
                {
                    ["oneOf"] = new JsonArray(Ref(ChunkSchemaId), Ref(ErrorSchemaId)),
                }),
            },
        };
    }

    /// <summary>Model ids and aliases may hold a slash (<c>zhipu/glm-5</c>): the route takes the rest of the path.</summary>
    internal static Task DescribeModelIdAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.Parameters?.FirstOrDefault(p => p.Name == "id") is OpenApiParameter id)
        {
            id.Description = "A model id or alias, as `GET /models` lists them. It may contain `/` (e.g. `zhipu/glm-5`), sent as is.";
        }

        return Task.CompletedTask;
    }

    private static JsonObject Ref(string schemaId) => new() { ["$ref"] = $"#/components/schemas/{schemaId}" };

    // ---- The chat request ------------------------------------------------------------------------
    // ChatRequestValidator reads the body as JSON nodes, not into a type, so its schema is written
    // here, field by field as the validator checks them. A JSON null counts as absent there, hence
    // the nullable optional fields.

    private static OpenApiSchema ChatRequestSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "Validated as listed; a violation is a 400 whose `param` names the field. A parameter the model does not support (e.g. `tools` on a model without tools) is a 400 `unsupported_parameter`.",
        Required = new HashSet<string> { "model", "messages" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["model"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = "A model id or alias from `GET /models`." },
            ["messages"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                Description = "The conversation so far. It must hold at least one `user` or `tool` message.",
                Items = MessageSchema(),
            },
            ["max_tokens"] = Integer(1, null, "The most tokens to generate (default 8192), capped at the model's `max_output_tokens`."),
            ["max_completion_tokens"] = Integer(1, null, "Same as `max_tokens`, and wins over it."),
            ["temperature"] = Number(0, 2, null),
            ["top_p"] = new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null, ExclusiveMinimum = "0", Maximum = "1" },
            ["top_k"] = Integer(0, null, null),
            ["seed"] = Integer(null, null, null),
            ["stop"] = new OpenApiSchema
            {
                Description = "Up to 4 sequences at which generation stops.",
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                    new OpenApiSchema { Type = JsonSchemaType.Array, MaxItems = 4, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 } },
                    new OpenApiSchema { Type = JsonSchemaType.Null },
                ],
            },
            ["n"] = Integer(1, 16, "How many choices to generate."),
            ["stream"] = Boolean("Stream the reply as server-sent events."),
            ["stream_options"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object | JsonSchemaType.Null,
                Properties = new Dictionary<string, IOpenApiSchema> { ["include_usage"] = Boolean("End the stream with a chunk that carries `usage`.") },
            },
            ["tools"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array | JsonSchemaType.Null,
                MaxItems = 128,
                Description = "Tools the model may call. `function` tools are checked; other types (`web_search`, `retrieval`, `mcp`…) are passed on as they are.",
                Items = ToolSchema(),
            },
            ["tool_choice"] = new OpenApiSchema
            {
                OneOf =
                [
                    Enum("auto", "none", "required"),
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Description = "Call this function, which must be one of `tools`.",
                        Required = new HashSet<string> { "function" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "`function` (not checked)." },
                            ["function"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Required = new HashSet<string> { "name" },
                                Properties = new Dictionary<string, IOpenApiSchema> { ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 } },
                            },
                        },
                    },
                    new OpenApiSchema { Type = JsonSchemaType.Null },
                ],
            },
            ["parallel_tool_calls"] = Boolean(null),
            ["response_format"] = ResponseFormatSchema(),
            ["thinking"] = TypedObject("Turn the model's reasoning on or off (`enabled` on models that support reasoning).", "enabled", "disabled"),
            ["reasoning_effort"] = Nullable(Enum("max", "xhigh", "high", "medium", "low", "minimal", "none"), "On models that support reasoning."),
            ["do_sample"] = Boolean(null),
            ["frequency_penalty"] = Number(-2, 2, null),
            ["presence_penalty"] = Number(-2, 2, null),
            ["logprobs"] = Boolean("Return each output token's log probability in `choices[].logprobs`."),
            ["top_logprobs"] = Integer(0, 20, "With `logprobs`, how many of the likeliest tokens to list at each position."),
            ["request_id"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MinLength = 6, MaxLength = 64, Description = "Your id for the request, echoed as `request_id` in the reply and every chunk; not sent to the provider." },
            ["user"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MaxLength = 256, Description = "Your identifier for the end user." },
            ["user_id"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MaxLength = 256, Description = "Read as `user` when `user` is absent." },
        },
    };

    private static OpenApiSchema MessageSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "`content` may be left out only on an assistant message with `tool_calls`; a `tool` message needs `tool_call_id`.",
        Required = new HashSet<string> { "role" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["role"] = Enum("system", "developer", "user", "assistant", "tool"),
            ["content"] = new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String },
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Description = "Content parts; parts other than text are passed on to upstreams that accept them.",
                        Items = new OpenApiSchema
                        {
                            OneOf =
                            [
                                new OpenApiSchema
                                {
                                    Type = JsonSchemaType.Object,
                                    Required = new HashSet<string> { "type", "text" },
                                    Properties = new Dictionary<string, IOpenApiSchema>
                                    {
                                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "text" },
                                        ["text"] = new OpenApiSchema { Type = JsonSchemaType.String },
                                    },
                                },
                                Part("image_url"), Part("file"), Part("input_audio"), Part("video_url"),
                            ],
                        },
                    },
                    new OpenApiSchema { Type = JsonSchemaType.Null },
                ],
            },
            ["tool_call_id"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = "On a `tool` message: the call it answers." },
            ["tool_calls"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array | JsonSchemaType.Null,
                Description = "On an `assistant` message: the calls it made.",
                Items = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "id", "function" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["id"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["function"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "name" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                                ["arguments"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                            },
                        },
                    },
                },
            },
        },
        If = new OpenApiSchema { Properties = new Dictionary<string, IOpenApiSchema> { ["role"] = new OpenApiSchema { Const = "tool" } } },
        Then = new OpenApiSchema { Required = new HashSet<string> { "tool_call_id" } },
    };

    /// <summary>As <c>ChatRequestValidator</c> checks it: <c>json_schema</c> needs its name and, if given, a schema object within bounds.</summary>
    private static OpenApiSchema ResponseFormatSchema() => new()
    {
        Type = JsonSchemaType.Object | JsonSchemaType.Null,
        Description = "`json_object` makes the reply valid JSON (on models that support JSON mode); `json_schema` makes it JSON that satisfies " +
            "`json_schema.schema` (structured outputs, on models whose `supports_structured_outputs` is true; passed on to the provider unchanged).",
        Required = new HashSet<string> { "type" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = Enum("text", "json_object", "json_schema"),
            ["json_schema"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "name" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[a-zA-Z0-9_-]{1,64}$" },
                    ["description"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    ["schema"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Description = $"A JSON Schema; at most {ChatRequestValidator.MaxSchemaBytes / 1024} KB as JSON and {ChatRequestValidator.MaxSchemaDepth} levels of nesting.",
                    },
                    ["strict"] = new OpenApiSchema { Type = JsonSchemaType.Boolean | JsonSchemaType.Null },
                },
            },
        },
        If = new OpenApiSchema { Properties = new Dictionary<string, IOpenApiSchema> { ["type"] = new OpenApiSchema { Const = "json_schema" } } },
        Then = new OpenApiSchema { Required = new HashSet<string> { "json_schema" } },
    };

    /// <summary>A non-text content part: its value, under the key its type names, is passed on as it is.</summary>
    private static OpenApiSchema Part(string type) => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", type },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = type },
            [type] = new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Integer | JsonSchemaType.Boolean },
        },
    };

    private static OpenApiSchema ToolSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
            ["function"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "name" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[a-zA-Z0-9_-]{1,64}$" },
                    ["description"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                    ["parameters"] = new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, Description = "A JSON Schema for the arguments." },
                },
            },
        },
        If = new OpenApiSchema { Properties = new Dictionary<string, IOpenApiSchema> { ["type"] = new OpenApiSchema { Const = "function" } } },
        Then = new OpenApiSchema { Required = new HashSet<string> { "function" } },
    };

    private static OpenApiSchema TypedObject(string description, params string[] types) => new()
    {
        Type = JsonSchemaType.Object | JsonSchemaType.Null,
        Description = description,
        Required = new HashSet<string> { "type" },
        Properties = new Dictionary<string, IOpenApiSchema> { ["type"] = Enum(types) },
    };

    private static OpenApiSchema Enum(params string[] values) => new()
    {
        Type = JsonSchemaType.String,
        Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList(),
    };

    private static OpenApiSchema Nullable(OpenApiSchema schema, string? description) => new()
    {
        Description = description,
        OneOf = [schema, new OpenApiSchema { Type = JsonSchemaType.Null }],
    };

    private static OpenApiSchema Integer(long? minimum, long? maximum, string? description) => new()
    {
        Type = JsonSchemaType.Integer | JsonSchemaType.Null,
        Minimum = minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Maximum = maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Description = description,
    };

    private static OpenApiSchema Number(double minimum, double maximum, string? description) => new()
    {
        Type = JsonSchemaType.Number | JsonSchemaType.Null,
        Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Maximum = maximum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Description = description,
    };

    private static OpenApiSchema Boolean(string? description) => new() { Type = JsonSchemaType.Boolean | JsonSchemaType.Null, Description = description };
}

/// <summary>The document as served: built on the first request and kept, since the endpoints cannot change while Portal runs.</summary>
internal sealed class OpenApiJson([FromKeyedServices(GatewayOpenApi.DocumentName)] IOpenApiDocumentProvider provider)
{
    private readonly Lazy<Task<byte[]>> _json = new(async () =>
    {
        var document = await provider.GetOpenApiDocumentAsync(CancellationToken.None);
        using var stream = new MemoryStream();
        await document.SerializeAsJsonAsync(stream, OpenApiSpecVersion.OpenApi3_1);
        return stream.ToArray();
    });

    public Task<byte[]> GetAsync() => _json.Value;
}
