using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// Turns a <c>POST /api/v1/responses</c> body into the chat completions body the gateway already runs
/// (<see cref="ChatGateway"/>: the same validation, hold, upstreams, settlement and records), or the
/// first problem with it, its <c>param</c> named as the Responses API names it. What both APIs share
/// (the model, temperature, tool schemas, structured outputs…) is checked once, by
/// <see cref="ChatRequestValidator"/>; here only the Responses shape is. See docs/decisions (ADR "the
/// OpenAI Responses API as a translation onto chat completions") and Docs/Content/responses.md.
/// </summary>
public static class ResponsesTranslator
{
    /// <summary>Members that need state or a hosted service Portal does not have: refused by name.</summary>
    private static readonly Dictionary<string, string> Unsupported = new()
    {
        ["conversation"] = "Portal does not keep conversations: send the whole conversation in 'input'.",
        ["prompt"] = "Portal has no stored prompt templates: send 'instructions' and 'input'.",
        ["background"] = "Portal does not run responses in the background: send 'stream': true for a long reply.",
    };

    private const int MaxMetadataPairs = 16;

    /// <summary>How deep a function's <c>parameters</c> begin in a chat completions body: body, tools, tool, function.</summary>
    private const int ParametersDepth = 4;

    public static ResponsesTranslation Translate(JsonNode? root)
    {
        try
        {
            return TranslateCore(root);
        }
        catch (ResponsesException e)
        {
            return ResponsesTranslation.Refused(e.Error);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // A JSON value of an unexpected kind read as another: the client's to fix.
            return ResponsesTranslation.Refused(ApiError.InvalidRequest($"The JSON body is not valid: {e.Message}"));
        }
    }

    private static ResponsesTranslation TranslateCore(JsonNode? root)
    {
        if (root is not JsonObject body)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        foreach (var (name, why) in Unsupported)
        {
            if (body[name] is { } value && !(value is JsonValue v && v.GetValueKind() is JsonValueKind.False or JsonValueKind.Null))
            {
                throw new ResponsesException(new ApiError(400, "unsupported_parameter", "invalid_request_error", $"'{name}' is not supported. {why}", name));
            }
        }

        var chat = new JsonObject();
        if (body["model"] is { } model)
        {
            chat["model"] = model.DeepClone(); // the chat validator checks it and answers 404 for an unknown one
        }

        var messages = new JsonArray();
        var instructions = OptionalString(body, "instructions");
        if (!string.IsNullOrEmpty(instructions))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        Input(body, messages);
        chat["messages"] = messages;

        var tools = Tools(body);
        if (tools is not null)
        {
            chat["tools"] = tools;
        }

        if (ToolChoice(body) is { } toolChoice)
        {
            chat["tool_choice"] = toolChoice;
        }

        if (body["parallel_tool_calls"] is { } parallel)
        {
            chat["parallel_tool_calls"] = parallel.DeepClone();
        }

        var maxOutput = OptionalInt(body, "max_output_tokens");
        if (maxOutput is < 1)
        {
            throw Invalid("'max_output_tokens' must be at least 1.", "max_output_tokens");
        }

        if (maxOutput is not null)
        {
            chat["max_tokens"] = maxOutput;
        }

        foreach (var name in (string[])["temperature", "top_p"])
        {
            if (body[name] is { } value)
            {
                chat[name] = value.DeepClone();
            }
        }

        var reasoning = Reasoning(body);
        if (reasoning?["effort"] is { } effort)
        {
            chat["reasoning_effort"] = effort.DeepClone();
        }

        var text = Text(body, chat);
        var user = OptionalString(body, "safety_identifier") ?? OptionalString(body, "user");
        if (user is not null)
        {
            chat["user"] = user;
        }

        var metadata = Metadata(body);
        var stream = OptionalBool(body, "stream") ?? false;
        var store = OptionalBool(body, "store") ?? true; // OpenAI's default
        chat["stream"] = stream;
        if (stream)
        {
            chat["stream_options"] = new JsonObject { ["include_usage"] = true }; // the usage for response.completed
        }

        var echo = new JsonObject
        {
            ["instructions"] = instructions,
            ["max_output_tokens"] = maxOutput,
            ["parallel_tool_calls"] = OptionalBool(body, "parallel_tool_calls") ?? true,
            ["previous_response_id"] = OptionalString(body, "previous_response_id"), // its conversation is already in 'input' (ResponseHistory)
            ["reasoning"] = new JsonObject { ["effort"] = reasoning?["effort"]?.DeepClone(), ["summary"] = reasoning?["summary"]?.DeepClone() },
            ["store"] = store, // the API says false when it will not keep it
            ["temperature"] = body["temperature"]?.DeepClone() ?? 1,
            ["text"] = text,
            ["tool_choice"] = body["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = body["tools"]?.DeepClone() ?? new JsonArray(),
            ["top_p"] = body["top_p"]?.DeepClone() ?? 1,
            ["truncation"] = "disabled",
            ["user"] = OptionalString(body, "user"),
            ["safety_identifier"] = OptionalString(body, "safety_identifier"),
            ["metadata"] = metadata,
        };
        return new ResponsesTranslation(chat, echo, stream, null, store);
    }

    /// <summary><c>input</c>: a string (one user message) or items — messages, function calls and their outputs — into chat messages.</summary>
    private static void Input(JsonObject body, JsonArray messages)
    {
        switch (body["input"])
        {
            case null:
                throw Invalid("'input' is required: a string or an array of input items.", "input");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                messages.Add(new JsonObject { ["role"] = "user", ["content"] = value.GetValue<string>() });
                return;
            case JsonArray items:
                JsonArray? pendingCalls = null; // consecutive function_call items are one assistant message
                for (var i = 0; i < items.Count; i++)
                {
                    var path = $"input[{i}]";
                    if (items[i] is not JsonObject item)
                    {
                        throw Invalid($"'{path}' must be an input item object.", path);
                    }

                    var type = item.ContainsKey("type") ? RequiredString(item, "type", $"{path}.type") : "message";
                    if (type != "function_call")
                    {
                        pendingCalls = null;
                    }

                    switch (type)
                    {
                        case "message":
                            messages.Add(Message(item, path));
                            break;
                        case "function_call":
                            var call = new JsonObject
                            {
                                ["id"] = RequiredString(item, "call_id", $"{path}.call_id"),
                                ["type"] = "function",
                                ["function"] = new JsonObject
                                {
                                    ["name"] = RequiredString(item, "name", $"{path}.name"),
                                    ["arguments"] = RequiredString(item, "arguments", $"{path}.arguments", allowEmpty: true),
                                },
                            };
                            if (pendingCalls is null)
                            {
                                pendingCalls = [];
                                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = pendingCalls });
                            }

                            pendingCalls.Add(call);
                            break;
                        case "function_call_output":
                            messages.Add(new JsonObject
                            {
                                ["role"] = "tool",
                                ["tool_call_id"] = RequiredString(item, "call_id", $"{path}.call_id"),
                                ["content"] = OutputText(item, path),
                            });
                            break;
                        case "reasoning":
                            break; // a previous turn's reasoning: chat completions has no place for it, and providers ignore it
                        default:
                            throw Invalid($"'{path}.type' must be message, function_call, function_call_output or reasoning; Portal does not support '{type}' items.", $"{path}.type");
                    }
                }

                if (items.Count == 0)
                {
                    throw Invalid("'input' must contain at least one item.", "input");
                }

                return;
            default:
                throw Invalid("'input' must be a string or an array of input items.", "input");
        }
    }

    private static JsonObject Message(JsonObject item, string path)
    {
        var role = RequiredString(item, "role", $"{path}.role");
        if (role is not ("user" or "system" or "developer" or "assistant"))
        {
            throw Invalid($"'{path}.role' must be user, system, developer or assistant.", $"{path}.role");
        }

        // "developer" is the newer name of "system"; not every provider behind chat completions knows it.
        var chatRole = role == "developer" ? "system" : role;
        switch (item["content"])
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return new JsonObject { ["role"] = chatRole, ["content"] = value.GetValue<string>() };
            case JsonArray parts:
                var content = new JsonArray();
                for (var j = 0; j < parts.Count; j++)
                {
                    var partPath = $"{path}.content[{j}]";
                    if (parts[j] is not JsonObject part)
                    {
                        throw Invalid($"'{partPath}' must be an object with a 'type'.", partPath);
                    }

                    content.Add(Part(part, partPath, role));
                }

                // Assistant and system turns as plain text: every provider takes that.
                return role is "user"
                    ? new JsonObject { ["role"] = chatRole, ["content"] = content }
                    : new JsonObject { ["role"] = chatRole, ["content"] = string.Concat(content.Select(p => p!["text"]!.GetValue<string>())) };
            default:
                throw Invalid($"'{path}.content' must be a string or an array of content parts.", $"{path}.content");
        }
    }

    private static JsonObject Part(JsonObject part, string path, string role)
    {
        var type = RequiredString(part, "type", $"{path}.type");
        switch (type)
        {
            case "input_text" or "output_text":
                return new JsonObject { ["type"] = "text", ["text"] = RequiredString(part, "text", $"{path}.text", allowEmpty: true) };
            case "refusal" when role == "assistant":
                return new JsonObject { ["type"] = "text", ["text"] = RequiredString(part, "refusal", $"{path}.refusal", allowEmpty: true) };
            case "input_image" when role == "user":
                if (part["file_id"] is not null || part["image_url"] is null)
                {
                    throw Invalid($"'{path}.image_url' is required: Portal has no file store, so send the image as a URL or a data: URL.", $"{path}.image_url");
                }

                var image = new JsonObject { ["url"] = RequiredString(part, "image_url", $"{path}.image_url") };
                if (OptionalString(part, "detail", $"{path}.detail") is { } detail)
                {
                    image["detail"] = detail;
                }

                return new JsonObject { ["type"] = "image_url", ["image_url"] = image };
            case "input_file" when role == "user":
                if (part["file_data"] is null)
                {
                    throw Invalid($"'{path}.file_data' is required: Portal has no file store, so send the file's content as a data: URL.", $"{path}.file_data");
                }

                var file = new JsonObject { ["file_data"] = RequiredString(part, "file_data", $"{path}.file_data") };
                if (OptionalString(part, "filename", $"{path}.filename") is { } filename)
                {
                    file["filename"] = filename;
                }

                return new JsonObject { ["type"] = "file", ["file"] = file };
            default:
                throw Invalid(role == "user"
                    ? $"'{path}.type' must be input_text, input_image or input_file."
                    : $"'{path}.type' must be input_text or output_text in a {role} message.", $"{path}.type");
        }
    }

    /// <summary>A function call's output: a string, or the text of its parts.</summary>
    private static string OutputText(JsonObject item, string path) => item["output"] switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select((p, j) => p is JsonObject part && part["type"]?.ToString() is "input_text" or "output_text"
            ? RequiredString(part, "text", $"{path}.output[{j}].text", allowEmpty: true)
            : throw Invalid($"'{path}.output[{j}]' must be an input_text part.", $"{path}.output[{j}]"))),
        _ => throw Invalid($"'{path}.output' is required: a string.", $"{path}.output"),
    };

    /// <summary><c>tools</c>: function tools only (<c>{type, name, description, parameters, strict}</c>), as chat completions nests them.</summary>
    private static JsonArray? Tools(JsonObject body)
    {
        switch (body["tools"])
        {
            case null:
                return null;
            case JsonArray tools:
                var chat = new JsonArray();
                for (var i = 0; i < tools.Count; i++)
                {
                    var path = $"tools[{i}]";
                    if (tools[i] is not JsonObject tool)
                    {
                        throw Invalid($"'{path}' must be an object with a 'type'.", path);
                    }

                    var type = RequiredString(tool, "type", $"{path}.type");
                    if (type != "function")
                    {
                        throw Invalid($"'{path}.type' is '{type}': Portal supports only tools of type 'function' (it hosts no web search, file search, computer use, shell or MCP tools).", $"{path}.type");
                    }

                    // Chat completions nests the schema one level deeper (tools[i].function.parameters): it must stay
                    // within the depth every body is read with, or no upstream could be sent it.
                    if (tool["parameters"] is { } parameters && Depth(parameters) > ChatBodyReader.MaxDepth - ParametersDepth)
                    {
                        throw Invalid($"'{path}.parameters' is nested more than {ChatBodyReader.MaxDepth - ParametersDepth} levels deep.", $"{path}.parameters");
                    }

                    var function = new JsonObject { ["name"] = RequiredString(tool, "name", $"{path}.name") };
                    foreach (var name in (string[])["description", "parameters", "strict"])
                    {
                        if (tool[name] is { } value)
                        {
                            function[name] = value.DeepClone();
                        }
                    }

                    chat.Add(new JsonObject { ["type"] = "function", ["function"] = function });
                }

                return chat;
            default:
                throw Invalid("'tools' must be an array.", "tools");
        }
    }

    private static JsonNode? ToolChoice(JsonObject body) => body["tool_choice"] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>() is "auto" or "none" or "required"
            ? value.DeepClone()
            : throw Invalid("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"name\":…}.", "tool_choice"),
        JsonObject choice when choice["type"]?.ToString() == "function" =>
            new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = RequiredString(choice, "name", "tool_choice.name") } },
        _ => throw Invalid("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"name\":…}.", "tool_choice"),
    };

    private static JsonObject? Reasoning(JsonObject body) => body["reasoning"] switch
    {
        null => null,
        JsonObject reasoning => reasoning["effort"] is null or JsonValue ? reasoning : throw Invalid("'reasoning.effort' must be a string.", "reasoning.effort"),
        _ => throw Invalid("'reasoning' must be an object such as {\"effort\":\"low\"}.", "reasoning"),
    };

    /// <summary><c>text.format</c> into <c>response_format</c>; the echo's <c>text</c>.</summary>
    private static JsonObject Text(JsonObject body, JsonObject chat)
    {
        if (body["text"] is not { } node)
        {
            return new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } };
        }

        if (node is not JsonObject text || text["format"] is not { } formatNode)
        {
            return node is JsonObject ? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } }
                : throw Invalid("'text' must be an object such as {\"format\":{\"type\":\"text\"}}.", "text");
        }

        if (formatNode is not JsonObject format)
        {
            throw Invalid("'text.format' must be an object with a 'type'.", "text.format");
        }

        var type = RequiredString(format, "type", "text.format.type");
        switch (type)
        {
            case "text":
                break;
            case "json_object":
                chat["response_format"] = new JsonObject { ["type"] = "json_object" };
                break;
            case "json_schema":
                var schema = new JsonObject();
                foreach (var name in (string[])["name", "description", "schema", "strict"])
                {
                    if (format[name] is { } value)
                    {
                        schema[name] = value.DeepClone();
                    }
                }

                chat["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
                break;
            default:
                throw Invalid("'text.format.type' must be text, json_object or json_schema.", "text.format.type");
        }

        return new JsonObject { ["format"] = format.DeepClone() };
    }

    /// <summary><c>metadata</c>: at most 16 string values (keys up to 64 characters, values up to 512), echoed, never sent upstream.</summary>
    private static JsonObject Metadata(JsonObject body)
    {
        switch (body["metadata"])
        {
            case null:
                return [];
            case JsonObject metadata when metadata.Count <= MaxMetadataPairs:
                foreach (var (key, value) in metadata)
                {
                    if (key.Length > 64 || value is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Length > 512)
                    {
                        throw Invalid("'metadata' values must be strings of at most 512 characters, under keys of at most 64.", "metadata");
                    }
                }

                return (JsonObject)metadata.DeepClone();
            default:
                throw Invalid($"'metadata' must be an object of at most {MaxMetadataPairs} string values.", "metadata");
        }
    }

    /// <summary>Levels of objects and arrays in a value: 0 for a scalar. The body was read at most <see cref="ChatBodyReader.MaxDepth"/> deep, which bounds the recursion.</summary>
    private static int Depth(JsonNode? node) => node switch
    {
        JsonObject o => 1 + o.Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        JsonArray a => 1 + a.Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    private static string RequiredString(JsonObject o, string name, string path, bool allowEmpty = false) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String && (allowEmpty || v.GetValue<string>().Length > 0)
            ? v.GetValue<string>()
            : throw Invalid($"'{path}' is required: a {(allowEmpty ? "" : "non-empty ")}string.", path);

    private static string? OptionalString(JsonObject o, string name, string? path = null) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw Invalid($"'{path ?? name}' must be a string.", path ?? name),
    };

    private static bool? OptionalBool(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Invalid($"'{name}' must be true or false.", name),
    };

    private static int? OptionalInt(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i) => i,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) =>
            d < 1 ? 0 : (int)Math.Min(d, int.MaxValue), // beyond int's range: refused below when too small, capped at the model's maximum when too large
        _ => throw Invalid($"'{name}' must be an integer.", name),
    };

    private static ResponsesException Invalid(string message, string? param) => new(ApiError.InvalidRequest(message, param));

    private sealed class ResponsesException(ApiError error) : Exception(error.Message)
    {
        public ApiError Error { get; } = error;
    }
}
