using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Playground;

/// <summary>
/// The <c>response_format</c> the playground sends, and what is wrong with the schema typed for it.
/// A schema is checked by the gateway's own validator, so the playground refuses exactly what the API
/// would refuse, before anything is sent or held.
/// </summary>
public static class PlaygroundResponseFormat
{
    /// <summary>The example the schema editor starts with: a small object OpenAI's strict mode accepts too.</summary>
    public const string ExampleSchema = """
        {
          "type": "object",
          "properties": {
            "answer": { "type": "string" },
            "confidence": { "type": "number" }
          },
          "required": ["answer", "confidence"],
          "additionalProperties": false
        }
        """;

    /// <summary>The choice as the model can take it: a format the model does not support falls back to text.</summary>
    public static ResponseFormatChoice Effective(PlaygroundSettings settings, ModelInfo model) => settings.ResponseFormat switch
    {
        ResponseFormatChoice.JsonSchema when model.SupportsStructuredOutputs => ResponseFormatChoice.JsonSchema,
        ResponseFormatChoice.JsonObject when model.SupportsJsonMode => ResponseFormatChoice.JsonObject,
        _ => ResponseFormatChoice.Text,
    };

    /// <summary>The request's <c>response_format</c>, or null for text (or a schema that is not JSON: see <see cref="Problem"/>).</summary>
    public static JsonObject? Build(PlaygroundSettings settings, ModelInfo model)
    {
        switch (Effective(settings, model))
        {
            case ResponseFormatChoice.JsonObject:
                return new JsonObject { ["type"] = "json_object" };
            case ResponseFormatChoice.JsonSchema when ParseSchema(settings.SchemaText, out var schema) is null:
                return new JsonObject
                {
                    ["type"] = "json_schema",
                    ["json_schema"] = new JsonObject { ["name"] = settings.SchemaName.Trim(), ["schema"] = schema },
                };
            default:
                return null;
        }
    }

    /// <summary>Why the schema cannot be sent, in words for the person typing it; null when it can (or none is asked for).</summary>
    public static string? Problem(PlaygroundSettings settings, ModelInfo model)
    {
        if (Effective(settings, model) != ResponseFormatChoice.JsonSchema)
        {
            return null;
        }

        if (ParseSchema(settings.SchemaText, out _) is { } notJson)
        {
            return notJson;
        }

        // The gateway's rules (name, size, depth), on a request that holds only this format.
        var probe = new JsonObject
        {
            ["model"] = model.Id,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "-" }),
            ["response_format"] = Build(settings, model),
        };
        var error = ChatRequestValidator.Validate(probe, _ => model, model.MaxOutputTokens).Error;
        return error is { Param: { } param } && param.StartsWith("response_format", StringComparison.Ordinal) ? error.Message : null;
    }

    private static string? ParseSchema(string text, out JsonNode? schema)
    {
        schema = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return "Enter a JSON schema: an object such as {\"type\": \"object\", \"properties\": {…}}.";
        }

        try
        {
            schema = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            // The parser counts lines and bytes from 0 and appends them to its message; people count from 1.
            var reason = e.Message.Split(" LineNumber:", 2)[0].Trim();
            return e.LineNumber is { } line && e.BytePositionInLine is { } column
                ? $"The schema is not valid JSON (line {line + 1}, column {column + 1}): {reason}"
                : $"The schema is not valid JSON: {reason}";
        }

        return schema is JsonObject ? null : "The schema must be a JSON object, such as {\"type\": \"object\", \"properties\": {…}}.";
    }
}
