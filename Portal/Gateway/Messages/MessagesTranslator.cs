using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Messages;

/// <summary>
/// Turns an Anthropic Messages request into the chat completions request the gateway runs (ADR 30:
/// the Anthropic Messages API as a translation onto chat completions), or the first problem with it,
/// its <c>param</c> naming the Anthropic field. Fields the chat request has no place for
/// (<c>cache_control</c>, <c>service_tier</c>, a thinking block's <c>signature</c>…) are dropped;
/// the mapping is listed in docs/messages.
/// </summary>
public static class MessagesTranslator
{
    /// <summary>The most stop sequences the chat request takes.</summary>
    public const int MaxStopSequences = 4;

    public sealed record Result(JsonObject? Chat, ApiError? Error, bool Stream);

    public static Result Translate(JsonNode? root)
    {
        try
        {
            return Build(root);
        }
        catch (InvalidMessagesRequest e)
        {
            return new Result(null, e.Error, false);
        }
    }

    private static Result Build(JsonNode? root)
    {
        if (root is not JsonObject body)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        var chat = new JsonObject { ["model"] = RequiredString(body, "model") };
        var messages = new JsonArray();
        if (System(body) is { } system)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        Messages(body, messages);
        chat["messages"] = messages;

        if (!body.ContainsKey("max_tokens"))
        {
            throw Invalid("'max_tokens' is required.", "max_tokens");
        }

        chat["max_tokens"] = Integer(body, "max_tokens", 1);
        if (body["stop_sequences"] is { } stops)
        {
            if (stops is not JsonArray list || list.Any(s => s is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Length == 0))
            {
                throw Invalid("'stop_sequences' must be an array of non-empty strings.", "stop_sequences");
            }

            if (list.Count > MaxStopSequences)
            {
                throw Invalid($"'stop_sequences' can hold at most {MaxStopSequences} sequences here.", "stop_sequences");
            }

            if (list.Count > 0)
            {
                chat["stop"] = list.DeepClone();
            }
        }

        CopyNumber(body, chat, "temperature", 0, 1);
        CopyNumber(body, chat, "top_p", 0, 1);
        // top_k is passed on as chat completions clients' is: upstreams that sample by it (vLLM, Zhipu…) use it.
        if (body.ContainsKey("top_k"))
        {
            chat["top_k"] = Integer(body, "top_k", 0);
        }

        Tools(body, chat);
        Thinking(body, chat);
        if (body["metadata"] is { } metadata)
        {
            if (metadata is not JsonObject meta)
            {
                throw Invalid("'metadata' must be an object.", "metadata");
            }

            if (OptionalString(meta, "user_id", "metadata.user_id") is { } user)
            {
                if (user.Length > Billing.UsageRecord.EndUserMaxLength)
                {
                    throw Invalid($"'metadata.user_id' must be at most {Billing.UsageRecord.EndUserMaxLength} characters long.", "metadata.user_id");
                }

                chat["user"] = user;
            }
        }

        var stream = false;
        if (body["stream"] is { } streamNode)
        {
            stream = streamNode is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                ? v.GetValue<bool>()
                : throw Invalid("'stream' must be true or false.", "stream");
        }

        if (stream)
        {
            chat["stream"] = true;
            // The sink needs the settled usage for message_delta; the client never sees the chunk.
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return new Result(chat, null, stream);
    }

    private static string? System(JsonObject body) => body["system"] is null ? null : SystemText(body["system"], "system");

    private static string SystemText(JsonNode? content, string name)
    {
        switch (content)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return value.GetValue<string>();
            case JsonArray blocks:
                var text = new StringBuilder();
                for (var i = 0; i < blocks.Count; i++)
                {
                    var path = $"{name}[{i}]";
                    var block = Block(blocks[i], path);
                    if (RequiredString(block, "type", $"{path}.type") != "text")
                    {
                        throw Invalid($"'{path}.type' must be text.", $"{path}.type");
                    }

                    text.Append(text.Length > 0 ? "\n" : "").Append(RequiredString(block, "text", $"{path}.text", allowEmpty: true));
                }

                return text.ToString();
            default:
                throw Invalid($"'{name}' must be a string or an array of text blocks.", name);
        }
    }

    private static void Messages(JsonObject body, JsonArray output)
    {
        if (body["messages"] is not JsonArray messages)
        {
            throw Invalid(body.ContainsKey("messages") ? "'messages' must be an array of messages." : "'messages' is required.", "messages");
        }

        if (messages.Count == 0)
        {
            throw Invalid("'messages' must hold at least one message.", "messages");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var path = $"messages[{i}]";
            var message = Block(messages[i], path);
            var role = RequiredString(message, "role", $"{path}.role");
            switch (role)
            {
                case "user":
                    User(message, path, output);
                    break;
                case "assistant":
                    Assistant(message, path, output);
                    break;
                case "system":
                    // A system turn within the conversation (newer Anthropic clients send them): text only.
                    output.Add(new JsonObject { ["role"] = "system", ["content"] = SystemText(message["content"], $"{path}.content") });
                    break;
                default:
                    throw Invalid($"'{path}.role' must be user, assistant or system.", $"{path}.role");
            }
        }
    }

    /// <summary>
    /// A user turn: its <c>tool_result</c> blocks become tool messages, which chat completions needs
    /// right after the assistant's tool calls; its text and images (a tool result's images too) follow as one user message.
    /// </summary>
    private static void User(JsonObject message, string path, JsonArray output)
    {
        var content = message["content"];
        if (content is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            output.Add(new JsonObject { ["role"] = "user", ["content"] = text.GetValue<string>() });
            return;
        }

        var parts = new JsonArray();
        foreach (var (block, blockPath) in Blocks(content, path))
        {
            var type = RequiredString(block, "type", $"{blockPath}.type");
            switch (type)
            {
                case "text":
                    parts.Add(new JsonObject { ["type"] = "text", ["text"] = RequiredString(block, "text", $"{blockPath}.text", allowEmpty: true) });
                    break;
                case "image":
                    parts.Add(Image(block, blockPath));
                    break;
                case "tool_result":
                    output.Add(ToolResult(block, blockPath, parts));
                    break;
                case "thinking" or "redacted_thinking":
                    break;
                default:
                    throw Invalid($"'{blockPath}.type' must be text, image or tool_result in a user message.", $"{blockPath}.type");
            }
        }

        if (parts.Count > 0)
        {
            output.Add(new JsonObject { ["role"] = "user", ["content"] = parts });
        }
    }

    private static JsonObject ToolResult(JsonObject block, string path, JsonArray userParts)
    {
        var id = RequiredString(block, "tool_use_id", $"{path}.tool_use_id");
        OptionalBool(block, "is_error", $"{path}.is_error");
        var text = new StringBuilder();
        switch (block["content"])
        {
            case null:
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                text.Append(value.GetValue<string>());
                break;
            case JsonArray:
                foreach (var (part, partPath) in Blocks(block["content"], path))
                {
                    switch (RequiredString(part, "type", $"{partPath}.type"))
                    {
                        case "text":
                            text.Append(text.Length > 0 ? "\n" : "").Append(RequiredString(part, "text", $"{partPath}.text", allowEmpty: true));
                            break;
                        case "image":
                            // A tool message holds text only: its images go to the user message that follows.
                            userParts.Add(Image(part, partPath));
                            break;
                        default:
                            throw Invalid($"'{partPath}.type' must be text or image in a tool_result.", $"{partPath}.type");
                    }
                }

                break;
            default:
                throw Invalid($"'{path}.content' must be a string or an array of text and image blocks.", $"{path}.content");
        }

        if (block["is_error"] is JsonValue error && error.GetValueKind() == JsonValueKind.True)
        {
            text.Insert(0, "Error: ");
        }

        return new JsonObject { ["role"] = "tool", ["tool_call_id"] = id, ["content"] = text.ToString() };
    }

    private static JsonObject Image(JsonObject block, string path)
    {
        if (block["source"] is not JsonObject source)
        {
            throw Invalid($"'{path}.source' is required for an image block.", $"{path}.source");
        }

        var url = RequiredString(source, "type", $"{path}.source.type") switch
        {
            "base64" => $"data:{RequiredString(source, "media_type", $"{path}.source.media_type")};base64,{RequiredString(source, "data", $"{path}.source.data")}",
            "url" => RequiredString(source, "url", $"{path}.source.url"),
            _ => throw Invalid($"'{path}.source.type' must be base64 or url.", $"{path}.source.type"),
        };
        return new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } };
    }

    /// <summary>An assistant turn: its text as content, its <c>tool_use</c> blocks as tool calls; its thinking is not sent back.</summary>
    private static void Assistant(JsonObject message, string path, JsonArray output)
    {
        var content = message["content"];
        var assistant = new JsonObject { ["role"] = "assistant" };
        if (content is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            assistant["content"] = value.GetValue<string>();
            output.Add(assistant);
            return;
        }

        var text = new StringBuilder();
        var calls = new JsonArray();
        foreach (var (block, blockPath) in Blocks(content, path))
        {
            switch (RequiredString(block, "type", $"{blockPath}.type"))
            {
                case "text":
                    text.Append(RequiredString(block, "text", $"{blockPath}.text", allowEmpty: true));
                    break;
                case "tool_use":
                    var input = block["input"] ?? new JsonObject();
                    if (input is not JsonObject)
                    {
                        throw Invalid($"'{blockPath}.input' must be an object.", $"{blockPath}.input");
                    }

                    calls.Add(new JsonObject
                    {
                        ["id"] = RequiredString(block, "id", $"{blockPath}.id"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = RequiredString(block, "name", $"{blockPath}.name"),
                            ["arguments"] = input.ToJsonString(),
                        },
                    });
                    break;
                case "thinking" or "redacted_thinking":
                    break;
                default:
                    throw Invalid($"'{blockPath}.type' must be text, tool_use or thinking in an assistant message.", $"{blockPath}.type");
            }
        }

        assistant["content"] = text.ToString();
        if (calls.Count > 0)
        {
            assistant["tool_calls"] = calls;
        }

        output.Add(assistant);
    }

    private static IEnumerable<(JsonObject Block, string Path)> Blocks(JsonNode? content, string path)
    {
        if (content is not JsonArray blocks)
        {
            throw Invalid(content is null ? $"'{path}.content' is required." : $"'{path}.content' must be a string or an array of content blocks.", $"{path}.content");
        }

        for (var j = 0; j < blocks.Count; j++)
        {
            var blockPath = $"{path}.content[{j}]";
            yield return (Block(blocks[j], blockPath), blockPath);
        }
    }

    private static void Tools(JsonObject body, JsonObject chat)
    {
        if (body["tools"] is { } node)
        {
            if (node is not JsonArray tools)
            {
                throw Invalid("'tools' must be an array.", "tools");
            }

            var functions = new JsonArray();
            for (var i = 0; i < tools.Count; i++)
            {
                var path = $"tools[{i}]";
                var tool = Block(tools[i], path);
                if (OptionalString(tool, "type", $"{path}.type") is { } type && type != "custom")
                {
                    throw Invalid($"'{path}.type' is '{type}': only client tools (with 'input_schema') can be translated for this gateway.", $"{path}.type");
                }

                var name = RequiredString(tool, "name", $"{path}.name");
                if (name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                {
                    throw Invalid($"'{path}.name' must be 1-64 letters, digits, underscores or dashes.", $"{path}.name");
                }

                var function = new JsonObject { ["name"] = name };
                if (OptionalString(tool, "description", $"{path}.description") is { } description)
                {
                    function["description"] = description;
                }

                if (tool["input_schema"] is not JsonObject schema)
                {
                    throw Invalid($"'{path}.input_schema' is required: a JSON Schema object.", $"{path}.input_schema");
                }

                function["parameters"] = schema.DeepClone();
                functions.Add(new JsonObject { ["type"] = "function", ["function"] = function });
            }

            if (functions.Count > 0)
            {
                chat["tools"] = functions;
            }
        }

        if (body["tool_choice"] is not { } choiceNode)
        {
            return;
        }

        if (choiceNode is not JsonObject choice)
        {
            throw Invalid("'tool_choice' must be an object such as {\"type\":\"auto\"}.", "tool_choice");
        }

        chat["tool_choice"] = RequiredString(choice, "type", "tool_choice.type") switch
        {
            "auto" => "auto",
            "any" => "required",
            "none" => "none",
            "tool" => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = RequiredString(choice, "name", "tool_choice.name") } },
            _ => throw Invalid("'tool_choice.type' must be auto, any, tool or none.", "tool_choice.type"),
        };
        if (OptionalBool(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use") == true)
        {
            chat["parallel_tool_calls"] = false;
        }
    }

    /// <summary><c>thinking</c> → the chat request's own switch (<c>{"type":"enabled"}</c>); the budget is checked, not passed on.</summary>
    private static void Thinking(JsonObject body, JsonObject chat)
    {
        if (body["thinking"] is not { } node)
        {
            return;
        }

        if (node is not JsonObject thinking)
        {
            throw Invalid("'thinking' must be an object such as {\"type\":\"enabled\",\"budget_tokens\":2048}.", "thinking");
        }

        switch (RequiredString(thinking, "type", "thinking.type"))
        {
            case "enabled":
                var budget = Integer(thinking, "budget_tokens", 1024, path: "thinking.budget_tokens");
                if (budget >= chat["max_tokens"]!.GetValue<int>())
                {
                    throw Invalid("'thinking.budget_tokens' must be less than 'max_tokens'.", "thinking.budget_tokens");
                }

                chat["thinking"] = new JsonObject { ["type"] = "enabled" };
                break;
            case "disabled":
                chat["thinking"] = new JsonObject { ["type"] = "disabled" };
                break;
            default:
                throw Invalid("'thinking.type' must be enabled or disabled.", "thinking.type");
        }
    }

    // ---- field helpers ----

    private static JsonObject Block(JsonNode? node, string path) =>
        node as JsonObject ?? throw Invalid($"'{path}' must be an object.", path);

    private static string RequiredString(JsonObject o, string name, string? path = null, bool allowEmpty = false)
    {
        path ??= name;
        if (o[name] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            throw Invalid(o.ContainsKey(name) ? $"'{path}' must be a string." : $"'{path}' is required.", path);
        }

        var s = value.GetValue<string>();
        return allowEmpty || s.Length > 0 ? s : throw Invalid($"'{path}' must not be empty.", path);
    }

    private static string? OptionalString(JsonObject o, string name, string path)
    {
        return o[name] switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw Invalid($"'{path}' must be a string.", path),
        };
    }

    private static bool? OptionalBool(JsonObject o, string name, string path) => o[name] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
        _ => throw Invalid($"'{path}' must be true or false.", path),
    };

    private static int Integer(JsonObject o, string name, int min, string? path = null)
    {
        path ??= name;
        if (o[name] is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<int>(out var n) || n < min)
        {
            throw Invalid(o.ContainsKey(name) ? $"'{path}' must be an integer of at least {min}." : $"'{path}' is required.", path);
        }

        return n;
    }

    private static void CopyNumber(JsonObject body, JsonObject chat, string name, double min, double max)
    {
        if (body[name] is not { } node)
        {
            return;
        }

        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<double>(out var n) || n < min || n > max)
        {
            throw Invalid($"'{name}' must be a number from {min} to {max}.", name);
        }

        chat[name] = n;
    }

    private static InvalidMessagesRequest Invalid(string message, string? param) => new(ApiError.InvalidRequest(message, param));

    private sealed class InvalidMessagesRequest(ApiError error) : Exception(error.Message)
    {
        public ApiError Error { get; } = error;
    }
}
