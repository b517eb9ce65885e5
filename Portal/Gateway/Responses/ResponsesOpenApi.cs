using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Portal.Gateway.Responses;

/// <summary>
/// The OpenAPI description of <c>POST /responses</c>: its request as <see cref="ResponsesTranslator"/>
/// reads it, the Response object as <see cref="ResponseObject"/> writes it, and its event stream
/// (<see cref="ResponsesSink"/>). Like the chat request's, these schemas are written by hand: the
/// request is read as JSON nodes and the Response written as one.
/// </summary>
public static class ResponsesOpenApi
{
    private const string JsonType = "application/json";
    private const string EventStreamType = "text/event-stream";
    private const string RequestSchemaId = "ResponseRequest";
    private const string ResponseSchemaId = "Response";
    private const string EventSchemaId = "ResponseStreamEvent";

    internal static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        document.AddComponent(RequestSchemaId, RequestSchema());
        document.AddComponent(ResponseSchemaId, ResponseSchema());
        document.AddComponent(EventSchemaId, EventSchema());
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "A request of OpenAI's Responses API. Portal translates it to a chat completion (see the Responses API docs page); members not listed here are ignored.",
            Content = new Dictionary<string, OpenApiMediaType> { [JsonType] = new() { Schema = new OpenApiSchemaReference(RequestSchemaId, document) } },
        };

        var ok = (OpenApiResponse)operation.Responses!["200"];
        ok.Description = "The Response object, or with `stream: true` a stream of server-sent events.";
        ok.Content ??= new Dictionary<string, OpenApiMediaType>();
        ok.Content[JsonType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(ResponseSchemaId, document) };
        ok.Content[EventStreamType] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = """
                    Server-sent events, sent with `stream: true`: each an `event:` line with its type and a `data:` line with
                    its JSON, whose `sequence_number` counts from 0. `response.created` and `response.in_progress` first; per
                    output item `response.output_item.added`, then for a message `response.content_part.added`,
                    `response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`; for a function
                    call `response.function_call_arguments.delta`… and `.done`; for reasoning
                    `response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`… and their `.done`; then
                    `response.output_item.done`. Last `response.completed` (or `response.incomplete`) with the settled
                    `usage`; a stream that fails after it has begun ends with `error` and `response.failed`. Comment lines
                    (`: keep-alive`) may come while the model is silent.
                    """,
            },
            Extensions = new Dictionary<string, IOpenApiExtension>
            {
                [GatewayOpenApi.StreamDataExtension] = new JsonNodeExtension(new JsonObject { ["$ref"] = $"#/components/schemas/{EventSchemaId}" }),
            },
        };
        return Task.CompletedTask;
    }

    /// <summary><c>GET /responses/{id}</c>: the stored Response object, as <see cref="DescribeAsync"/> describes it.</summary>
    internal static Task DescribeStoredAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        document.AddComponent(ResponseSchemaId, ResponseSchema());
        var ok = (OpenApiResponse)operation.Responses!["200"];
        ok.Description = "The Response object as it was sent when it finished.";
        ok.Content = new Dictionary<string, OpenApiMediaType> { [JsonType] = new() { Schema = new OpenApiSchemaReference(ResponseSchemaId, document) } };
        return Task.CompletedTask;
    }

    private static OpenApiSchema RequestSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "Validated as listed; a violation is a 400 whose `param` names the field as sent.",
        Required = new HashSet<string> { "model", "input" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["model"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, Description = "A model id or alias from `GET /models`." },
            ["input"] = new OpenApiSchema
            {
                Description = "A user message, or the conversation as items: `message` (roles user, system, developer, assistant; `input_text`, `input_image`, `input_file`, `output_text` parts), `function_call`, `function_call_output`, `reasoning` (ignored).",
                OneOf =
                [
                    new OpenApiSchema { Type = JsonSchemaType.String },
                    new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1, Items = new OpenApiSchema { Type = JsonSchemaType.Object } },
                ],
            },
            ["instructions"] = Typed(JsonSchemaType.String, "Sent first, as a system message."),
            ["tools"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array | JsonSchemaType.Null,
                MaxItems = 128,
                Description = "Function tools only: `{type: \"function\", name, description, parameters, strict}`; any other type is a 400.",
                Items = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "type", "name" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "function" },
                        ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[a-zA-Z0-9_-]{1,64}$" },
                        ["description"] = Typed(JsonSchemaType.String, null),
                        ["parameters"] = Typed(JsonSchemaType.Object, "A JSON Schema for the arguments."),
                        ["strict"] = Typed(JsonSchemaType.Boolean, null),
                    },
                },
            },
            ["tool_choice"] = new OpenApiSchema { Description = "`auto`, `none`, `required` or `{type: \"function\", name}`." },
            ["parallel_tool_calls"] = Typed(JsonSchemaType.Boolean, null),
            ["max_output_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Minimum = "1", Description = "Capped at the model's `max_output_tokens`." },
            ["temperature"] = new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null, Minimum = "0", Maximum = "2" },
            ["top_p"] = new OpenApiSchema { Type = JsonSchemaType.Number | JsonSchemaType.Null, ExclusiveMinimum = "0", Maximum = "1" },
            ["reasoning"] = Typed(JsonSchemaType.Object, "`effort` becomes chat completions' `reasoning_effort` (models with reasoning only)."),
            ["text"] = Typed(JsonSchemaType.Object, "`format`: `{type: \"text\"}`, `{type: \"json_object\"}` or `{type: \"json_schema\", name, schema, strict}`."),
            ["user"] = Typed(JsonSchemaType.String, "Your end user's id, kept on the usage record."),
            ["safety_identifier"] = Typed(JsonSchemaType.String, "Same as `user`, and wins over it."),
            ["metadata"] = Typed(JsonSchemaType.Object, "Up to 16 string values, echoed in the Response."),
            ["stream"] = Typed(JsonSchemaType.Boolean, "Stream the Response as server-sent events."),
            ["store"] = Typed(JsonSchemaType.Boolean, "Keep the finished Response for `GET /responses/{id}` and `previous_response_id` (default true); kept for the account only, for `Responses:KeepDays` (30), within its allowance."),
            ["previous_response_id"] = Typed(JsonSchemaType.String, "Continue a stored Response: its input and output go before this `input` (its `instructions` do not). Unknown, deleted, expired or another account's: 400 `previous_response_not_found`."),
        },
    };

    private static OpenApiSchema ResponseSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "id", "object", "created_at", "status", "model", "output" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["id"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^resp_" },
            ["object"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "response" },
            ["created_at"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. ((string[])["completed", "incomplete", "in_progress", "failed"]).Select(s => (JsonNode)JsonValue.Create(s))] },
            ["incomplete_details"] = Typed(JsonSchemaType.Object, "`reason`: `max_output_tokens` or `content_filter`."),
            ["model"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["output"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Description = "`reasoning` (its text as `summary`), `message` (one `output_text` part), `function_call` (`call_id`, `name`, `arguments`) items.",
                Items = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "id", "type" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["id"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. ((string[])["message", "function_call", "reasoning"]).Select(s => (JsonNode)JsonValue.Create(s))] },
                        ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "in_progress, completed or incomplete (not on reasoning items)." },
                        ["role"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "assistant" },
                        ["content"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "A message's `output_text` part: `text`, `annotations: []`, `logprobs: []`." },
                        ["summary"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "Reasoning's `summary_text` part: `text`." },
                        ["call_id"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["name"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["arguments"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The call's arguments, a JSON text." },
                    },
                },
            },
            ["background"] = Typed(JsonSchemaType.Boolean, "Always false."),
            ["error"] = Typed(JsonSchemaType.Object, "Why a failed Response failed: `code`, `message`."),
            ["instructions"] = Typed(JsonSchemaType.String, null),
            ["max_output_tokens"] = Typed(JsonSchemaType.Integer, null),
            ["parallel_tool_calls"] = Typed(JsonSchemaType.Boolean, null),
            ["previous_response_id"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["reasoning"] = Typed(JsonSchemaType.Object, "`effort`, `summary` as requested."),
            ["store"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Whether Portal keeps this Response (false when asked not to, or when the operator keeps none)." },
            ["temperature"] = Typed(JsonSchemaType.Number, null),
            ["text"] = Typed(JsonSchemaType.Object, "`format` as requested."),
            ["tool_choice"] = new OpenApiSchema { Description = "As requested." },
            ["tools"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "As requested." },
            ["top_p"] = Typed(JsonSchemaType.Number, null),
            ["truncation"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "disabled" },
            ["user"] = Typed(JsonSchemaType.String, null),
            ["safety_identifier"] = Typed(JsonSchemaType.String, null),
            ["metadata"] = Typed(JsonSchemaType.Object, "As requested."),
            ["usage"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object | JsonSchemaType.Null,
                Description = "The settled usage; `cost` is what Portal charged, in USD.",
                Required = new HashSet<string> { "input_tokens", "output_tokens", "total_tokens" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["input_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["input_tokens_details"] = Typed(JsonSchemaType.Object, "`cached_tokens`."),
                    ["output_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["output_tokens_details"] = Typed(JsonSchemaType.Object, "`reasoning_tokens`."),
                    ["total_tokens"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["cost"] = new OpenApiSchema { Type = JsonSchemaType.Number },
                },
            },
        },
    };

    private static OpenApiSchema EventSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "sequence_number" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["sequence_number"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
            ["response"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "The Response so far (`response.created`, `.in_progress`, `.completed`, `.incomplete`, `.failed`)." },
            ["output_index"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["item"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "An output item (`response.output_item.added`, `.done`)." },
            ["item_id"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["content_index"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["summary_index"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["part"] = new OpenApiSchema { Type = JsonSchemaType.Object },
            ["delta"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["text"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["logprobs"] = new OpenApiSchema { Type = JsonSchemaType.Array },
            ["name"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["arguments"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = Typed(JsonSchemaType.String, "The `error` event's code."),
            ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["param"] = Typed(JsonSchemaType.String, null),
        },
    };

    private static OpenApiSchema Typed(JsonSchemaType type, string? description) => new() { Type = type | JsonSchemaType.Null, Description = description };
}
