using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Tests.Simulation;

/// <summary>A small JSON Schema checker for the subset the simulated tool calls promise to satisfy.</summary>
internal static class SchemaCheck
{
    public static List<string> Errors(JsonNode? value, JsonNode schema)
    {
        var errors = new List<string>();
        Check(value, schema, schema, "$", errors);
        return errors;
    }

    private static bool Valid(JsonNode? value, JsonNode? schema, JsonNode root)
    {
        var errors = new List<string>();
        Check(value, schema, root, "$", errors);
        return errors.Count == 0;
    }

    private static void Check(JsonNode? value, JsonNode? schema, JsonNode root, string path, List<string> errors)
    {
        if (schema is null || schema.GetValueKind() == JsonValueKind.True)
        {
            return;
        }

        if (schema.GetValueKind() == JsonValueKind.False)
        {
            errors.Add($"{path}: no value is allowed");
            return;
        }

        var s = schema.AsObject();
        if (s["$ref"] is JsonValue reference)
        {
            var target = root;
            foreach (var part in reference.GetValue<string>().TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                target = target[part]!;
            }

            Check(value, target, root, path, errors);
        }

        if (s.TryGetPropertyValue("const", out var constant) && !JsonNode.DeepEquals(constant, value))
        {
            errors.Add($"{path}: not the const");
        }

        if (s["enum"] is JsonArray members && !members.Any(m => JsonNode.DeepEquals(m, value)))
        {
            errors.Add($"{path}: not in enum");
        }

        foreach (var part in s["allOf"] as JsonArray ?? [])
        {
            Check(value, part, root, path, errors);
        }

        if (s["anyOf"] is JsonArray any && !any.Any(b => Valid(value, b, root)))
        {
            errors.Add($"{path}: matches no anyOf branch");
        }

        if (s["oneOf"] is JsonArray one && one.Count(b => Valid(value, b, root)) != 1)
        {
            errors.Add($"{path}: does not match exactly one oneOf branch");
        }

        if (s["type"] is { } type)
        {
            var types = type is JsonArray list ? list.Select(t => t!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            if (!types.Any(t => IsType(value, t)))
            {
                errors.Add($"{path}: {value?.ToJsonString() ?? "null"} is not {string.Join("|", types)}");
                return;
            }
        }

        switch (value)
        {
            case JsonObject o:
                CheckObject(o, s, root, path, errors);
                break;
            case JsonArray a:
                CheckArray(a, s, root, path, errors);
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                CheckNumber(Number(v), s, path, errors);
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                CheckString(v.GetValue<string>(), s, path, errors);
                break;
        }
    }

    private static void CheckObject(JsonObject o, JsonObject s, JsonNode root, string path, List<string> errors)
    {
        var properties = s["properties"] as JsonObject ?? [];
        foreach (var (key, property) in properties)
        {
            if (o.TryGetPropertyValue(key, out var member))
            {
                Check(member, property, root, $"{path}.{key}", errors);
            }
        }

        foreach (var required in (s["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()))
        {
            if (!o.ContainsKey(required))
            {
                errors.Add($"{path}: missing required '{required}'");
            }
        }

        foreach (var (key, member) in o.Where(p => !properties.ContainsKey(p.Key)))
        {
            Check(member, s["additionalProperties"], root, $"{path}.{key}", errors);
        }

        if (s["minProperties"] is { } min && o.Count < min.GetValue<int>())
        {
            errors.Add($"{path}: fewer than {min} properties");
        }
    }

    private static void CheckArray(JsonArray a, JsonObject s, JsonNode root, string path, List<string> errors)
    {
        if (s["minItems"] is { } min && a.Count < min.GetValue<int>())
        {
            errors.Add($"{path}: fewer than {min} items");
        }

        if (s["maxItems"] is { } max && a.Count > max.GetValue<int>())
        {
            errors.Add($"{path}: more than {max} items");
        }

        if (s["uniqueItems"]?.GetValue<bool>() == true && a.Select(i => i?.ToJsonString()).Distinct().Count() != a.Count)
        {
            errors.Add($"{path}: items are not unique");
        }

        var prefix = s["prefixItems"] as JsonArray ?? [];
        for (var i = 0; i < a.Count; i++)
        {
            Check(a[i], i < prefix.Count ? prefix[i] : s["items"], root, $"{path}[{i}]", errors);
        }
    }

    private static void CheckNumber(decimal n, JsonObject s, string path, List<string> errors)
    {
        var exclusiveFlag = s["exclusiveMinimum"]?.GetValueKind() == JsonValueKind.True;
        if (s["minimum"] is { } min && (exclusiveFlag ? n <= Number(min) : n < Number(min)))
        {
            errors.Add($"{path}: {n} below minimum {min}");
        }

        var exclusiveMaxFlag = s["exclusiveMaximum"]?.GetValueKind() == JsonValueKind.True;
        if (s["maximum"] is { } max && (exclusiveMaxFlag ? n >= Number(max) : n > Number(max)))
        {
            errors.Add($"{path}: {n} above maximum {max}");
        }

        if (s["exclusiveMinimum"] is { } xmin && xmin.GetValueKind() == JsonValueKind.Number && n <= Number(xmin))
        {
            errors.Add($"{path}: {n} not above {xmin}");
        }

        if (s["exclusiveMaximum"] is { } xmax && xmax.GetValueKind() == JsonValueKind.Number && n >= Number(xmax))
        {
            errors.Add($"{path}: {n} not below {xmax}");
        }

        if (s["multipleOf"] is { } step && n % Number(step) != 0)
        {
            errors.Add($"{path}: {n} not a multiple of {step}");
        }
    }

    private static void CheckString(string text, JsonObject s, string path, List<string> errors)
    {
        var length = text.EnumerateRunes().Count();
        if (s["minLength"] is { } min && length < min.GetValue<int>())
        {
            errors.Add($"{path}: shorter than {min}");
        }

        if (s["maxLength"] is { } max && length > max.GetValue<int>())
        {
            errors.Add($"{path}: longer than {max}");
        }

        var format = s["format"]?.GetValue<string>();
        var ok = format switch
        {
            "date-time" => DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            "uuid" => Guid.TryParseExact(text, "D", out _),
            "email" => text.Contains('@'),
            "uri" => Uri.TryCreate(text, UriKind.Absolute, out _),
            _ => true,
        };
        if (!ok)
        {
            errors.Add($"{path}: '{text}' is not a {format}");
        }
    }

    private static bool IsType(JsonNode? value, string type) => type switch
    {
        "null" => value is null,
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value?.GetValueKind() == JsonValueKind.String,
        "boolean" => value?.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "number" => value?.GetValueKind() == JsonValueKind.Number,
        "integer" => value?.GetValueKind() == JsonValueKind.Number && Number(value) % 1 == 0,
        _ => throw new ArgumentException($"unknown type {type}"),
    };

    private static decimal Number(JsonNode node) => decimal.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
}
