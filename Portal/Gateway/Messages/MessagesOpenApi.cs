using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Portal.Gateway.Messages;

/// <summary>
/// The OpenAPI description of the Messages routes (<see cref="MessagesApi"/>): Anthropic's request and
/// reply, and its error envelope in place of OpenAI's, with 529 where the other routes say 503.
/// docs/messages describes every field.
/// </summary>
internal static class MessagesOpenApi
{
    public const string ErrorSchemaId = "MessagesError";
    private const string RequestSchemaId = "MessagesRequest";
    private const string JsonType = "application/json";

    public static Task DescribeMessagesAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        Describe(operation, context, "A Messages request as Anthropic's API takes it (see /docs/messages for the mapping onto chat completions).");
        var ok = new OpenApiResponse
        {
            Description = "The reply: one Anthropic `message`, or with `stream: true` server-sent events with names: `message_start`, per content block `content_block_start`, `content_block_delta`s (`text_delta`, `thinking_delta`, `input_json_delta`) and `content_block_stop`, then `message_delta` (stop reason and usage) and `message_stop`; `ping` while the model is silent; `error` if it fails after it has begun.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [JsonType] = new() { Schema = MessageSchema() },
                ["text/event-stream"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        };
        operation.Responses!["200"] = ok;
        return Task.CompletedTask;
    }

    public static Task DescribeCountTokensAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        Describe(operation, context, "A Messages request (`max_tokens` may be left out); nothing is generated or charged.");
        operation.Responses!["200"] = new OpenApiResponse
        {
            Description = "The prompt tokens by Portal's token rule, as billed when an upstream reports no usage.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [JsonType] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "input_tokens" },
                        Properties = new Dictionary<string, IOpenApiSchema> { ["input_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    /// <summary>The request body, and every error as Anthropic's envelope; 503 is 529 here (MessagesErrors).</summary>
    private static OpenApiDocument Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, string description)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        document.AddComponent(RequestSchemaId, RequestSchema());
        document.AddComponent(ErrorSchemaId, ErrorSchema());
        operation.Description = "Anthropic's Messages API, for Anthropic's SDKs and tools such as Claude Code: send the key as `x-api-key` or `Authorization: Bearer`. Errors use Anthropic's envelope and types.";
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [JsonType] = new() { Schema = new OpenApiSchemaReference(RequestSchemaId, document) } },
        };
        if (operation.Responses!.Remove("503", out var unavailable))
        {
            ((OpenApiResponse)unavailable).Description = "`overloaded_error`: Portal is busy, restarting, switched off by an administrator or without its database; retry later (`Retry-After` when known).";
            operation.Responses["529"] = unavailable;
        }

        foreach (var (status, response) in operation.Responses)
        {
            if (status != "200" && response is OpenApiResponse { Content: { } content } && content.TryGetValue(JsonType, out var media))
            {
                media.Schema = new OpenApiSchemaReference(ErrorSchemaId, document);
            }
        }

        return document;
    }

    private static OpenApiSchema ErrorSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "Anthropic's error envelope. `error.type` is invalid_request_error (400), authentication_error (401), billing_error (402), permission_error (403), not_found_error (404), request_too_large (413), rate_limit_error (429), api_error (500, 502), timeout_error (504) or overloaded_error (529).",
        Required = new HashSet<string> { "type", "error" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("error")] },
            ["error"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "type", "message" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                },
            },
        },
    };

    private static OpenApiSchema RequestSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "model", "messages", "max_tokens" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["model"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = "A model id or alias from `GET /models`." },
            ["messages"] = new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1, Description = "`user` and `assistant` turns: a string, or `text`, `image`, `tool_use` and `tool_result` blocks." },
            ["system"] = new OpenApiSchema { Description = "A string or `text` blocks." },
            ["max_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
            ["stop_sequences"] = new OpenApiSchema { Type = JsonSchemaType.Array, MaxItems = MessagesTranslator.MaxStopSequences, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 } },
            ["temperature"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
            ["top_p"] = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1" },
            ["top_k"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
            ["tools"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "Client tools: `name`, `description`, `input_schema`." },
            ["tool_choice"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "`{\"type\": \"auto\" | \"any\" | \"none\"}` or `{\"type\":\"tool\",\"name\":…}`." },
            ["thinking"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "`{\"type\":\"enabled\",\"budget_tokens\":N}` (1024 ≤ N < max_tokens) or `{\"type\":\"disabled\"}`." },
            ["metadata"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "`user_id`: your id for the end user, kept on the usage record." },
            ["stream"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
        },
    };

    private static OpenApiSchema MessageSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["id"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["role"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["model"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The model as the request named it." },
            ["content"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "`thinking`, `text` and `tool_use` blocks." },
            ["stop_reason"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "end_turn, max_tokens, tool_use or refusal." },
            ["stop_sequence"] = new OpenApiSchema { Type = JsonSchemaType.Null },
            ["usage"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["input_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["output_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["cache_creation_input_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["cache_read_input_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                },
            },
        },
    };
}
