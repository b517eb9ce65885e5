using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portal.Catalog;

namespace Portal.Gateway;

/// <summary>
/// Turns a chat completions body into a <see cref="ChatRequest"/> or the first problem with it;
/// <c>param</c> names the offending field. Unknown fields are left for upstreams.
/// </summary>
public static partial class ChatRequestValidator
{
    private static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool", "developer"];
    private static readonly HashSet<string> PartTypes = ["text", "image_url", "file", "input_audio", "video_url"];
    private static readonly HashSet<string> Efforts = ["max", "xhigh", "high", "medium", "low", "minimal", "none"];

    public sealed record Result(ChatRequest? Request, ModelInfo? Model, ApiError? Error);

    /// <param name="bodyBytes">The body's UTF-8 size as received; 0 when it was built in code (then measured here).</param>
    public static Result Validate(JsonNode? root, Func<string, ModelInfo?> findModel, int defaultMaxTokens, long bodyBytes = 0)
    {
        try
        {
            return ValidateCore(root, findModel, defaultMaxTokens, bodyBytes);
        }
        catch (InvalidOperationException e) when (e is not ValidationException)
        {
            // Duplicate property names and similar surface lazily as these; they are the client's to fix.
            return Fail(ApiError.InvalidRequest($"The JSON body is not valid: {e.Message}"));
        }
        catch (ArgumentException e)
        {
            return Fail(ApiError.InvalidRequest($"The JSON body is not valid: {e.Message}"));
        }
        catch (ValidationException e)
        {
            return Fail(e.Error);
        }
    }

    private static Result Fail(ApiError error) => new(null, null, error);

    private static Result ValidateCore(JsonNode? root, Func<string, ModelInfo?> findModel, int defaultMaxTokens, long bodyBytes)
    {
        if (root is not JsonObject body)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        var modelName = RequiredString(body, "model");
        var model = findModel(modelName) ?? throw new ValidationException(ApiError.ModelNotFound(modelName));

        var media = new MediaTally();
        var messages = Messages(body, media);
        var maxTokens = OptionalInt(body, "max_completion_tokens", 1) ?? OptionalInt(body, "max_tokens", 1) ?? defaultMaxTokens;
        OptionalInt(body, "max_tokens", 1);
        var temperature = OptionalNumber(body, "temperature", 0, 2);
        var topP = OptionalNumber(body, "top_p", 0, 1);
        if (topP == 0)
        {
            throw Invalid("'top_p' must be greater than 0 and at most 1.", "top_p");
        }

        OptionalInt(body, "top_k", 0);
        var seed = OptionalLong(body, "seed");
        var stop = Stop(body);
        var n = OptionalInt(body, "n", 1, 16) ?? 1;
        var stream = OptionalBool(body, "stream") ?? false;
        var logprobs = OptionalBool(body, "logprobs") ?? false;
        var topLogprobs = OptionalInt(body, "top_logprobs", 0, 20) ?? 0;
        if (topLogprobs > 0 && !logprobs)
        {
            throw Invalid("'top_logprobs' needs 'logprobs': true.", "top_logprobs");
        }

        var includeUsage = false;
        if (body["stream_options"] is { } streamOptions)
        {
            if (streamOptions is not JsonObject so)
            {
                throw Invalid("'stream_options' must be an object.", "stream_options");
            }

            includeUsage = OptionalBool(so, "include_usage", "stream_options.include_usage") ?? false;
        }

        var tools = Tools(body, model);
        var (toolChoice, toolChoiceName) = ToolChoiceOf(body, tools);
        OptionalBool(body, "parallel_tool_calls");
        var (jsonMode, responseSchema) = ResponseFormat(body, model);
        var thinking = Thinking(body, model);
        var effort = OptionalString(body, "reasoning_effort");
        if (effort is not null)
        {
            if (!Efforts.Contains(effort))
            {
                throw Invalid($"'reasoning_effort' must be one of {string.Join(", ", Efforts)}.", "reasoning_effort");
            }

            if (!model.SupportsReasoning)
            {
                throw new ValidationException(ApiError.Unsupported("reasoning_effort", model.Id));
            }
        }

        OptionalBool(body, "do_sample");
        OptionalNumber(body, "frequency_penalty", -2, 2);
        OptionalNumber(body, "presence_penalty", -2, 2);
        var requestId = OptionalString(body, "request_id");
        if (requestId is not null && requestId.Length is < 6 or > 64)
        {
            throw Invalid("'request_id' must be 6 to 64 characters long.", "request_id");
        }

        var user = OptionalString(body, "user") ?? OptionalString(body, "user_id");
        if (user is { Length: > 256 })
        {
            throw Invalid("'user' must be at most 256 characters long.", "user");
        }

        var request = new ChatRequest
        {
            Raw = body,
            // Built in code (the playground): measured once, here, rather than on every upstream attempt.
            BodyBytes = bodyBytes > 0 ? bodyBytes : JsonSerializer.SerializeToUtf8Bytes(body).LongLength,
            Media = media.ToMedia(),
            Model = modelName,
            Messages = messages,
            MaxTokens = Math.Min(maxTokens, model.MaxOutputTokens),
            Temperature = temperature,
            TopP = topP,
            Seed = seed,
            Stop = stop,
            N = n,
            Stream = stream,
            IncludeUsage = includeUsage,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            Tools = tools,
            ToolChoice = toolChoice,
            ToolChoiceName = toolChoiceName,
            JsonMode = jsonMode,
            ResponseSchema = responseSchema,
            Thinking = thinking,
            ReasoningEffort = effort,
            User = user,
            RequestId = requestId,
        };
        return new Result(request, model, null);
    }

    private static List<ChatMessage> Messages(JsonObject body, MediaTally media)
    {
        if (body["messages"] is not JsonArray array)
        {
            throw Invalid(body.ContainsKey("messages") ? "'messages' must be an array of message objects." : "'messages' is required.", "messages");
        }

        if (array.Count == 0)
        {
            throw Invalid("'messages' must contain at least one message.", "messages");
        }

        var messages = new List<ChatMessage>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"messages[{i}]";
            if (array[i] is not JsonObject message)
            {
                throw Invalid($"'{path}' must be an object with 'role' and 'content'.", path);
            }

            var role = RequiredString(message, "role", $"{path}.role");
            if (!Roles.Contains(role))
            {
                throw Invalid($"'{path}.role' must be one of system, user, assistant, tool.", $"{path}.role");
            }

            var hasToolCalls = role == "assistant" && ToolCalls(message, path);
            var text = Content(message, path, contentOptional: hasToolCalls, media);
            string? toolCallId = null;
            if (role == "tool")
            {
                toolCallId = RequiredString(message, "tool_call_id", $"{path}.tool_call_id");
            }

            messages.Add(new ChatMessage(role, text, toolCallId, hasToolCalls));
        }

        if (!messages.Any(m => m.Role is "user" or "tool"))
        {
            throw Invalid("'messages' must contain at least one user message.", "messages");
        }

        return messages;
    }

    /// <summary>The text of a message's content (string, or the text parts of an array); other parts are passed through.</summary>
    private static string Content(JsonObject message, string path, bool contentOptional, MediaTally media)
    {
        var content = message["content"];
        switch (content)
        {
            case null when contentOptional:
                return "";
            case null:
                throw Invalid($"'{path}.content' is required.", $"{path}.content");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return value.GetValue<string>();
            case JsonArray parts:
                var text = new StringBuilder();
                for (var j = 0; j < parts.Count; j++)
                {
                    var partPath = $"{path}.content[{j}]";
                    if (parts[j] is not JsonObject part)
                    {
                        throw Invalid($"'{partPath}' must be an object with a 'type'.", partPath);
                    }

                    var type = RequiredString(part, "type", $"{partPath}.type");
                    if (!PartTypes.Contains(type))
                    {
                        throw Invalid($"'{partPath}.type' must be one of text, image_url, file.", $"{partPath}.type");
                    }

                    if (type == "text")
                    {
                        text.Append(RequiredString(part, "text", $"{partPath}.text", allowEmpty: true)).Append('\n');
                    }
                    else if (part[type] is not JsonObject and not JsonValue)
                    {
                        throw Invalid($"'{partPath}.{type}' is required for a {type} part.", $"{partPath}.{type}");
                    }
                    else
                    {
                        media.Add(type, part[type]!);
                    }
                }

                return text.ToString();
            default:
                throw Invalid($"'{path}.content' must be a string or an array of content parts.", $"{path}.content");
        }
    }

    private static bool ToolCalls(JsonObject message, string path)
    {
        var node = message["tool_calls"];
        if (node is null)
        {
            return false;
        }

        if (node is not JsonArray calls)
        {
            throw Invalid($"'{path}.tool_calls' must be an array.", $"{path}.tool_calls");
        }

        for (var j = 0; j < calls.Count; j++)
        {
            var callPath = $"{path}.tool_calls[{j}]";
            if (calls[j] is not JsonObject call)
            {
                throw Invalid($"'{callPath}' must be an object.", callPath);
            }

            RequiredString(call, "id", $"{callPath}.id");
            if (call["function"] is not JsonObject function)
            {
                throw Invalid($"'{callPath}.function' must be an object with 'name' and 'arguments'.", $"{callPath}.function");
            }

            RequiredString(function, "name", $"{callPath}.function.name");
            OptionalString(function, "arguments", $"{callPath}.function.arguments");
        }

        return calls.Count > 0;
    }

    private static List<FunctionTool> Tools(JsonObject body, ModelInfo model)
    {
        var node = body["tools"];
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw Invalid("'tools' must be an array.", "tools");
        }

        if (array.Count > 128)
        {
            throw Invalid("'tools' can hold at most 128 tools.", "tools");
        }

        if (array.Count > 0 && !model.SupportsTools)
        {
            throw new ValidationException(ApiError.Unsupported("tools", model.Id));
        }

        var tools = new List<FunctionTool>();
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"tools[{i}]";
            if (array[i] is not JsonObject tool)
            {
                throw Invalid($"'{path}' must be an object with a 'type'.", path);
            }

            var type = RequiredString(tool, "type", $"{path}.type");
            if (type != "function")
            {
                continue; // web_search, retrieval, mcp…: the upstream's to interpret
            }

            if (tool["function"] is not JsonObject function)
            {
                throw Invalid($"'{path}.function' is required for a function tool.", $"{path}.function");
            }

            var name = RequiredString(function, "name", $"{path}.function.name");
            if (!FunctionName().IsMatch(name))
            {
                throw Invalid($"'{path}.function.name' must be 1-64 letters, digits, underscores or dashes.", $"{path}.function.name");
            }

            var description = OptionalString(function, "description", $"{path}.function.description");
            var parameters = function["parameters"];
            if (parameters is not null and not JsonObject)
            {
                throw Invalid($"'{path}.function.parameters' must be a JSON Schema object.", $"{path}.function.parameters");
            }

            tools.Add(new FunctionTool(name, description, parameters as JsonObject));
        }

        return tools;
    }

    private static (ToolChoice, string?) ToolChoiceOf(JsonObject body, List<FunctionTool> tools)
    {
        switch (body["tool_choice"])
        {
            case null:
                return (ToolChoice.Auto, null);
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return value.GetValue<string>() switch
                {
                    "auto" => (ToolChoice.Auto, null),
                    "none" => (ToolChoice.None, null),
                    "required" => (ToolChoice.Required, null),
                    _ => throw Invalid("'tool_choice' must be auto, none, required or a named function.", "tool_choice"),
                };
            case JsonObject choice when choice["function"] is JsonObject function:
                var name = RequiredString(function, "name", "tool_choice.function.name");
                if (tools.All(t => t.Name != name))
                {
                    throw Invalid($"'tool_choice' names the function '{name}', which is not in 'tools'.", "tool_choice");
                }

                return (ToolChoice.Named, name);
            default:
                throw Invalid("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":…}}.", "tool_choice");
        }
    }

    private static (bool JsonMode, ResponseSchema? Schema) ResponseFormat(JsonObject body, ModelInfo model)
    {
        if (body["response_format"] is not { } node)
        {
            return (false, null);
        }

        if (node is not JsonObject format)
        {
            throw Invalid("'response_format' must be an object such as {\"type\":\"json_object\"}.", "response_format");
        }

        var type = RequiredString(format, "type", "response_format.type");
        switch (type)
        {
            case "text":
                return (false, null);
            case "json_object" when !model.SupportsJsonMode:
                throw new ValidationException(ApiError.Unsupported("response_format", model.Id));
            case "json_object":
                return (true, null);
            case "json_schema":
                var schema = JsonSchemaFormat(format);
                // Checked after the schema, so a client learns of a bad schema whatever model it tries.
                return model.SupportsStructuredOutputs
                    ? (false, schema)
                    : throw new ValidationException(ApiError.UnsupportedStructuredOutputs(model.Id));
            default:
                throw Invalid("'response_format.type' must be text, json_object or json_schema.", "response_format.type");
        }
    }

    /// <summary>
    /// <c>response_format.json_schema</c> checked as OpenAI checks it: a name of 1-64 letters, digits,
    /// underscores or dashes, a string description, a boolean <c>strict</c>, and a schema that is an object —
    /// within <see cref="MaxSchemaBytes"/> and <see cref="MaxSchemaDepth"/>, so what the simulated upstream
    /// walks and every provider receives stays small (ADR 22).
    /// </summary>
    private static ResponseSchema JsonSchemaFormat(JsonObject format)
    {
        const string path = "response_format.json_schema";
        if (format["json_schema"] is not JsonObject jsonSchema)
        {
            throw Invalid(format.ContainsKey("json_schema")
                ? $"'{path}' must be an object with 'name' and 'schema'."
                : $"'{path}' is required when 'response_format.type' is json_schema.", path);
        }

        var name = RequiredString(jsonSchema, "name", $"{path}.name");
        if (!FunctionName().IsMatch(name))
        {
            throw Invalid($"'{path}.name' must be 1-64 letters, digits, underscores or dashes.", $"{path}.name");
        }

        OptionalString(jsonSchema, "description", $"{path}.description");
        var strict = OptionalBool(jsonSchema, "strict", $"{path}.strict") ?? false;
        var schema = jsonSchema["schema"];
        if (schema is null)
        {
            if (jsonSchema.ContainsKey("schema"))
            {
                throw Invalid($"'{path}.schema' must be a JSON Schema object.", $"{path}.schema");
            }

            return new ResponseSchema(name, null, strict);
        }

        if (schema is not JsonObject schemaObject)
        {
            throw Invalid($"'{path}.schema' must be a JSON Schema object.", $"{path}.schema");
        }

        if (Depth(schemaObject) > MaxSchemaDepth)
        {
            throw Invalid($"'{path}.schema' is nested more than {MaxSchemaDepth} levels deep.", $"{path}.schema");
        }

        if (Encoding.UTF8.GetByteCount(schemaObject.ToJsonString()) > MaxSchemaBytes)
        {
            throw Invalid($"'{path}.schema' is larger than {MaxSchemaBytes / 1024} KB.", $"{path}.schema");
        }

        return new ResponseSchema(name, schemaObject, strict);
    }

    /// <summary>The most bytes a response schema may take as JSON: far above real ones (a 50-field form is ~5 KB).</summary>
    public const int MaxSchemaBytes = 64 * 1024;

    /// <summary>The deepest a response schema may nest, counting every object and array of its JSON.</summary>
    public const int MaxSchemaDepth = 32;

    /// <summary>How deep a JSON value nests (a scalar is 0), without recursion: schemas come from clients.</summary>
    private static int Depth(JsonNode root)
    {
        var deepest = 0;
        var pending = new Stack<(JsonNode Node, int Depth)>();
        pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            deepest = Math.Max(deepest, item.Depth);
            if (deepest > MaxSchemaDepth)
            {
                return deepest;
            }

            var children = item.Node switch
            {
                JsonObject o => o.Select(p => p.Value),
                JsonArray a => a.AsEnumerable(),
                _ => [],
            };
            foreach (var child in children)
            {
                if (child is JsonObject or JsonArray)
                {
                    pending.Push((child, item.Depth + 1));
                }
            }
        }

        return deepest;
    }

    private static bool? Thinking(JsonObject body, ModelInfo model)
    {
        if (body["thinking"] is not { } node)
        {
            return null;
        }

        if (node is not JsonObject thinking)
        {
            throw Invalid("'thinking' must be an object such as {\"type\":\"enabled\"}.", "thinking");
        }

        var enabled = RequiredString(thinking, "type", "thinking.type") switch
        {
            "enabled" => true,
            "disabled" => false,
            _ => throw Invalid("'thinking.type' must be enabled or disabled.", "thinking.type"),
        };
        if (enabled && !model.SupportsReasoning)
        {
            throw new ValidationException(ApiError.Unsupported("thinking", model.Id));
        }

        return enabled;
    }

    private static List<string> Stop(JsonObject body)
    {
        switch (body["stop"])
        {
            case null:
                return [];
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return [NonEmptyStop(value.GetValue<string>())];
            case JsonArray array when array.Count <= 4:
                return array.Select(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.String
                    ? NonEmptyStop(v.GetValue<string>())
                    : throw Invalid("'stop' must be a string or an array of up to 4 strings.", "stop")).ToList();
            default:
                throw Invalid("'stop' must be a string or an array of up to 4 strings.", "stop");
        }
    }

    private static string NonEmptyStop(string value) =>
        value.Length > 0 ? value : throw Invalid("'stop' sequences must not be empty.", "stop");

    // ---- field helpers ----

    private static string RequiredString(JsonObject o, string name, string? path = null, bool allowEmpty = false)
    {
        path ??= name;
        var node = o[name];
        if (node is null)
        {
            throw Invalid($"'{path}' is required.", path);
        }

        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            throw Invalid($"'{path}' must be a string.", path);
        }

        var s = value.GetValue<string>();
        return allowEmpty || s.Length > 0 ? s : throw Invalid($"'{path}' must not be empty.", path);
    }

    private static string? OptionalString(JsonObject o, string name, string? path = null)
    {
        var node = o[name];
        if (node is null)
        {
            return null;
        }

        return node is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : throw Invalid($"'{path ?? name}' must be a string.", path ?? name);
    }

    private static bool? OptionalBool(JsonObject o, string name, string? path = null)
    {
        var node = o[name];
        if (node is null)
        {
            return null;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid($"'{path ?? name}' must be true or false.", path ?? name),
        };
    }

    private static int? OptionalInt(JsonObject o, string name, int min, int max = int.MaxValue)
    {
        var value = OptionalLong(o, name);
        if (value is null)
        {
            return null;
        }

        if (value < min || value > max)
        {
            throw Invalid(max == int.MaxValue ? $"'{name}' must be at least {min}." : $"'{name}' must be between {min} and {max}.", name);
        }

        return (int)value;
    }

    private static long? OptionalLong(JsonObject o, string name)
    {
        var node = o[name];
        if (node is null)
        {
            return null;
        }

        // Via the JSON text: a node parsed from a body and one built in code (the playground's)
        // hold their numbers differently, and both must validate alike.
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            ? l
            : throw Invalid($"'{name}' must be an integer.", name);
    }

    private static double? OptionalNumber(JsonObject o, string name, double min, double max)
    {
        var node = o[name];
        if (node is null)
        {
            return null;
        }

        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number
            || !double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            throw Invalid($"'{name}' must be a number.", name);
        }

        return d >= min && d <= max ? d : throw Invalid($"'{name}' must be between {min} and {max}.", name);
    }

    /// <summary>
    /// Counts the media parts and the bytes of their payloads (the URL or base64 data: <c>image_url.url</c>,
    /// <c>video_url.url</c>, <c>input_audio.data</c>, <c>file.file_data</c>, or the part's value when it is
    /// a bare string). The hold counts each such part at its model's per-part bound instead of those
    /// bytes; every other byte of the part stays counted (ADR 13).
    /// </summary>
    private sealed class MediaTally
    {
        private int _images, _files, _audio, _video;
        private long _payloadBytes;

        public void Add(string type, JsonNode value)
        {
            switch (type)
            {
                case "image_url":
                    _images++;
                    break;
                case "file":
                    _files++;
                    break;
                case "input_audio":
                    _audio++;
                    break;
                default:
                    _video++;
                    break;
            }

            var payload = value is JsonObject o
                ? o[type switch { "input_audio" => "data", "file" => "file_data", _ => "url" }]
                : value;
            _payloadBytes += StringBytes(payload);
        }

        public PromptMedia ToMedia() => new(_images, _files, _audio, _video, _payloadBytes);

        /// <summary>
        /// A string's bytes as the body holds them, quotes included; never more than they take in the
        /// body, so subtracting them leaves every other byte counted.
        /// </summary>
        private static long StringBytes(JsonNode? node)
        {
            if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            {
                return 0;
            }

            // Parsed from the body: the raw bytes, without decoding a megabyte of base64 into a string.
            return value.TryGetValue<JsonElement>(out var element)
                ? System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).Length
                : Encoding.UTF8.GetByteCount(value.GetValue<string>());
        }
    }

    private static ValidationException Invalid(string message, string? param) => new(ApiError.InvalidRequest(message, param));

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();

    private sealed class ValidationException(ApiError error) : InvalidOperationException(error.Message)
    {
        public ApiError Error { get; } = error;
    }
}
