using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Simulation;

/// <summary>
/// Builds a JSON value that satisfies a JSON Schema, for simulated tool-call arguments.
/// </summary>
/// <remarks>
/// Covers what function-tool schemas use in practice: <c>type</c> (one or a list), <c>properties</c>
/// (every property is filled in, required or not) and <c>required</c>, <c>additionalProperties</c> and
/// <c>minProperties</c>, <c>enum</c>/<c>const</c>, <c>minimum</c>/<c>maximum</c>/<c>exclusiveMinimum</c>/
/// <c>exclusiveMaximum</c> (both drafts)/<c>multipleOf</c>, <c>minLength</c>/<c>maxLength</c> and common
/// string <c>format</c>s, <c>items</c>/<c>prefixItems</c>/<c>minItems</c>/<c>maxItems</c>/<c>uniqueItems</c>,
/// <c>anyOf</c>/<c>oneOf</c> (the first branch), <c>allOf</c> (merged) and local <c>$ref</c>
/// (<c>#/$defs/…</c>, <c>#/definitions/…</c>), recursive ones included. Not attempted: <c>pattern</c>,
/// <c>not</c>, <c>if</c>/<c>then</c>/<c>else</c>, <c>patternProperties</c>, <c>dependent*</c>.
/// </remarks>
public static class JsonSchemaSample
{
    /// <summary>Below this depth only required properties and the minimum of items are made, so recursive schemas end.</summary>
    private const int FullDepth = 8;

    /// <summary>A schema that recurses through required members never ends; give up (null) here.</summary>
    private const int MaxDepth = 32;

    /// <summary>
    /// Schemas come from clients: past this size (values made plus padding characters) the sample
    /// stops growing, so <c>"minItems": 1e9</c> costs nothing. Far beyond any max_tokens, so a reply
    /// never notices; only a schema that demands more gets a value that falls short of it.
    /// </summary>
    private const int MaxSize = 100_000;

    /// <summary>Bounds beyond this are treated as absent, so the arithmetic on them cannot overflow.</summary>
    private const decimal MaxBound = 1e24m;

    /// <param name="schema">The schema; null (a function without <c>parameters</c>) gives <c>{}</c>.</param>
    /// <param name="text">What free-text strings say (the simulated upstream passes an excerpt of the prompt).</param>
    public static JsonNode? Generate(JsonNode? schema, string text = "example") =>
        schema is null ? new JsonObject() : new Generator(schema, string.IsNullOrWhiteSpace(text) ? "example" : text).Value(schema, null, 0, 0);

    private sealed class Generator(JsonNode root, string text)
    {
        private int _size;

        private bool Exhausted => _size >= MaxSize;

        public JsonNode? Value(JsonNode? schema, string? name, int variant, int depth)
        {
            if (depth > MaxDepth || ++_size > MaxSize)
            {
                return null;
            }

            if (schema is not JsonObject s)
            {
                // true, {} or nonsense: anything goes.
                return schema?.GetValueKind() == JsonValueKind.False ? null : MakeString(new JsonObject(), name, variant);
            }

            if (StringOf(s["$ref"]) is { } reference)
            {
                var target = Resolve(reference) as JsonObject ?? new JsonObject();
                return Value(Merge(target, Without(s, "$ref")), name, variant, depth + 1);
            }

            if (s.TryGetPropertyValue("const", out var constant))
            {
                return constant?.DeepClone();
            }

            if (s["enum"] is JsonArray { Count: > 0 } members)
            {
                return members[variant % members.Count]?.DeepClone();
            }

            if (s["allOf"] is JsonArray { Count: > 0 } all)
            {
                var merged = Without(s, "allOf");
                foreach (var part in all)
                {
                    merged = Merge(merged, Resolved(part));
                }

                return Value(merged, name, variant, depth + 1);
            }

            foreach (var keyword in (string[])["anyOf", "oneOf"])
            {
                if (s[keyword] is JsonArray { Count: > 0 } branches)
                {
                    return Value(Merge(Without(s, keyword), Resolved(branches[0])), name, variant, depth + 1);
                }
            }

            return TypeOf(s) switch
            {
                "object" => MakeObject(s, variant, depth),
                "array" => MakeArray(s, variant, depth),
                "integer" => MakeNumber(s, integer: true, variant),
                "number" => MakeNumber(s, integer: false, variant),
                "boolean" => JsonValue.Create(variant % 2 == 0),
                "null" => null,
                _ => MakeString(s, name, variant),
            };
        }

        private static string TypeOf(JsonObject s)
        {
            switch (s["type"])
            {
                case JsonValue single when StringOf(single) is { } type:
                    return type;
                case JsonArray types:
                    var named = types.Select(StringOf).OfType<string>().ToList();
                    return named.FirstOrDefault(t => t != "null") ?? named.FirstOrDefault() ?? "string";
            }

            // No type: infer it from the keywords that constrain one.
            if (s.ContainsKey("properties") || s.ContainsKey("required") || s.ContainsKey("additionalProperties"))
            {
                return "object";
            }

            if (s.ContainsKey("items") || s.ContainsKey("prefixItems") || s.ContainsKey("minItems"))
            {
                return "array";
            }

            return s.ContainsKey("minimum") || s.ContainsKey("maximum") || s.ContainsKey("multipleOf") ? "number" : "string";
        }

        private JsonObject MakeObject(JsonObject s, int variant, int depth)
        {
            var result = new JsonObject();
            var required = (s["required"] as JsonArray ?? []).Select(StringOf).OfType<string>().ToHashSet();
            foreach (var (key, property) in s["properties"] as JsonObject ?? [])
            {
                if (depth < FullDepth || required.Contains(key))
                {
                    result[key] = Value(property, key, variant, depth + 1);
                }
            }

            var additional = s["additionalProperties"];
            foreach (var key in required.Where(k => !result.ContainsKey(k)))
            {
                result[key] = Value(additional is JsonObject ? additional : null, key, variant, depth + 1) ?? "example";
            }

            var open = additional?.GetValueKind() != JsonValueKind.False;
            var minimum = IntOf(s["minProperties"]) ?? 0;
            for (var i = 1; open && result.Count < minimum && !Exhausted; i++)
            {
                if (!result.ContainsKey($"extra_{i}"))
                {
                    result[$"extra_{i}"] = Value(additional is JsonObject ? additional : null, null, variant, depth + 1);
                }
            }

            return result;
        }

        private JsonArray MakeArray(JsonObject s, int variant, int depth)
        {
            // Tuples: prefixItems (2020-12), or items as an array (draft 4-2019) with additionalItems.
            var tuple = s["prefixItems"] as JsonArray ?? s["items"] as JsonArray ?? [];
            var rest = s["prefixItems"] is not null ? s["items"] : s["items"] is JsonArray ? s["additionalItems"] : s["items"];
            var min = IntOf(s["minItems"]) ?? 0;
            var max = IntOf(s["maxItems"]) ?? int.MaxValue;
            var count = depth < FullDepth ? Math.Max(Math.Max(min, 1), tuple.Count) : min;
            if (rest?.GetValueKind() == JsonValueKind.False)
            {
                count = Math.Min(count, tuple.Count);
            }

            count = Math.Min(count, max);
            var result = new JsonArray();
            for (var i = 0; i < count && !Exhausted; i++)
            {
                // Each item gets its own variant, so items differ (uniqueItems) where the schema allows.
                var item = i < tuple.Count ? tuple[i] : rest;
                result.Add(Value(item, null, variant + i, depth + 1));
            }

            return result;
        }

        private static JsonValue MakeNumber(JsonObject s, bool integer, int variant)
        {
            var low = DecimalOf(s["minimum"]);
            var high = DecimalOf(s["maximum"]);
            var lowExclusive = false;
            var highExclusive = false;
            // Draft 6+: exclusiveMinimum is a number; draft 4: a flag on minimum.
            if (DecimalOf(s["exclusiveMinimum"]) is { } exclusiveLow && (low is null || exclusiveLow >= low))
            {
                (low, lowExclusive) = (exclusiveLow, true);
            }
            else if (s["exclusiveMinimum"]?.GetValueKind() == JsonValueKind.True)
            {
                lowExclusive = low is not null;
            }

            if (DecimalOf(s["exclusiveMaximum"]) is { } exclusiveHigh && (high is null || exclusiveHigh <= high))
            {
                (high, highExclusive) = (exclusiveHigh, true);
            }
            else if (s["exclusiveMaximum"]?.GetValueKind() == JsonValueKind.True)
            {
                highExclusive = high is not null;
            }

            if (integer)
            {
                // Integer bounds are inclusive: (1.5, 4) holds 2, 3.
                low = low is { } l ? (lowExclusive ? Math.Floor(l) + 1 : Math.Ceiling(l)) : null;
                high = high is { } h ? (highExclusive ? Math.Ceiling(h) - 1 : Math.Floor(h)) : null;
                lowExclusive = highExclusive = false;
            }

            var value = (integer ? 1m : 1.5m) + variant;
            if (low is { } min && (value < min || (lowExclusive && value == min)))
            {
                value = !lowExclusive ? min : high is { } top ? (min + top) / 2 : min + 1;
            }

            if (high is { } max && (value > max || (highExclusive && value == max)))
            {
                value = !highExclusive ? max : low is { } bottom ? (bottom + max) / 2 : max - 1;
                if (low is { } floor && value < floor)
                {
                    value = floor;
                }
            }

            if (DecimalOf(s["multipleOf"]) is > 0m and var step)
            {
                value = MultipleOf(value, step, low, lowExclusive, high, highExclusive, integer);
            }

            return integer && value >= long.MinValue && value <= long.MaxValue
                ? JsonValue.Create((long)decimal.Truncate(value))
                : JsonValue.Create(integer ? decimal.Truncate(value) : value);
        }

        /// <summary>The multiple of <paramref name="step"/> nearest above <paramref name="value"/> that fits the bounds (and is whole for integers).</summary>
        private static decimal MultipleOf(decimal value, decimal step, decimal? low, bool lowExclusive, decimal? high, bool highExclusive, bool integer)
        {
            bool Fits(decimal v) =>
                (!integer || v == decimal.Truncate(v))
                && (low is not { } l || (lowExclusive ? v > l : v >= l))
                && (high is not { } h || (highExclusive ? v < h : v <= h));

            try
            {
                var k = Math.Ceiling(value / step);
                for (var i = 0; i < 1000; i++)
                {
                    if (Fits((k + i) * step))
                    {
                        return (k + i) * step;
                    }

                    if (Fits((k - i) * step))
                    {
                        return (k - i) * step;
                    }
                }
            }
            catch (OverflowException)
            {
                // A step too fine for decimal: leave the value as it is.
            }

            return value;
        }

        private string MakeString(JsonObject s, string? name, int variant)
        {
            var suffix = variant == 0 ? "" : $" {variant + 1}";
            var value = StringOf(s["format"]) switch
            {
                "date-time" => $"2024-01-{15 + variant % 10}T09:30:00Z",
                "date" => $"2024-01-{15 + variant % 10}",
                "time" => $"09:{30 + variant % 30}:00Z",
                "email" or "idn-email" => $"user{variant + 1}@example.com",
                "uri" or "url" or "iri" or "uri-reference" => $"https://example.com/{variant + 1}",
                "hostname" or "idn-hostname" => $"host{variant + 1}.example.com",
                "ipv4" => $"192.0.2.{1 + variant % 254}",
                "ipv6" => $"2001:db8::{1 + variant % 9999}",
                "uuid" => $"3f2c8a1e-6b7d-4c5e-9a0b-{variant + 1:D12}",
                _ => ByName(name?.ToLowerInvariant()) is { } hint ? hint + suffix : text + suffix,
            };

            var runes = value.EnumerateRunes().ToList();
            if (IntOf(s["maxLength"]) is { } maxLength && runes.Count > maxLength)
            {
                runes = runes.GetRange(0, maxLength);
            }

            var builder = new StringBuilder();
            foreach (var rune in runes)
            {
                builder.Append(rune.ToString());
            }

            var padding = Math.Clamp((IntOf(s["minLength"]) ?? 0) - runes.Count, 0, Math.Max(0, MaxSize - _size));
            builder.Append('x', padding);
            _size += padding;

            return builder.ToString();
        }

        /// <summary>A plausible value for well-known property names.</summary>
        private static string? ByName(string? name) => name switch
        {
            null => null,
            "name" or "first_name" or "firstname" => "Alex",
            "last_name" or "lastname" or "surname" => "Morgan",
            _ when name.Contains("timezone") => "Europe/Paris",
            _ when name.Contains("email") => "user@example.com",
            _ when name.Contains("url") || name.Contains("link") || name.Contains("website") => "https://example.com",
            _ when name.Contains("date") => "2024-01-15",
            _ when name.Contains("city") || name.Contains("location") || name.Contains("place") => "Paris",
            _ when name.Contains("country") => "France",
            _ when name.Contains("language") || name is "lang" or "locale" => "en",
            _ when name.Contains("currency") => "EUR",
            _ => null,
        };

        private JsonNode? Resolve(string reference)
        {
            if (!reference.StartsWith('#'))
            {
                return null; // remote references are not fetched
            }

            var node = (JsonNode?)root;
            foreach (var raw in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                var token = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
                node = node switch
                {
                    JsonObject o => o[token],
                    JsonArray a when int.TryParse(token, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < a.Count => a[i],
                    _ => null,
                };
            }

            return node;
        }

        private JsonObject Resolved(JsonNode? part) => part switch
        {
            JsonObject o when StringOf(o["$ref"]) is { } reference => Merge(Resolve(reference) as JsonObject ?? [], Without(o, "$ref")),
            JsonObject o => o,
            _ => [],
        };

        /// <summary>Both schemas' keywords; properties and required are united, any other keyword of <paramref name="b"/> wins.</summary>
        private JsonObject Merge(JsonObject a, JsonObject b)
        {
            if (b.Count == 0)
            {
                return a; // only read from here on: no copy needed
            }

            var merged = (JsonObject)Copy(a)!;
            foreach (var (key, value) in b)
            {
                if (key == "properties" && merged[key] is JsonObject properties && value is JsonObject more)
                {
                    foreach (var (name, property) in more)
                    {
                        properties[name] = Copy(property);
                    }
                }
                else if (key == "required" && merged[key] is JsonArray required && value is JsonArray moreRequired)
                {
                    var known = required.Select(StringOf).OfType<string>().ToHashSet();
                    foreach (var name in moreRequired.Select(StringOf).OfType<string>().Where(known.Add))
                    {
                        required.Add(name);
                    }
                }
                else
                {
                    merged[key] = Copy(value);
                }
            }

            return merged;
        }

        private JsonObject Without(JsonObject s, string keyword)
        {
            var copy = new JsonObject();
            foreach (var (key, value) in s.Where(p => p.Key != keyword))
            {
                copy[key] = Copy(value);
            }

            return copy;
        }

        /// <summary>A copy, charged to the size budget: schemas that merge and recurse can't make copying unbounded.</summary>
        private JsonNode? Copy(JsonNode? node)
        {
            _size += NodeCount(node);
            return node?.DeepClone();
        }

        private static int NodeCount(JsonNode? node) => node switch
        {
            JsonObject o => 1 + o.Sum(p => NodeCount(p.Value)),
            JsonArray a => 1 + a.Sum(NodeCount),
            _ => 1,
        };

        private static string? StringOf(JsonNode? node) =>
            node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

        private static decimal? DecimalOf(JsonNode? node) =>
            node is JsonValue && node.GetValueKind() == JsonValueKind.Number
            && decimal.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            && Math.Abs(d) <= MaxBound
                ? d
                : null;

        private static int? IntOf(JsonNode? node) =>
            node is JsonValue && node.GetValueKind() == JsonValueKind.Number
            && double.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? (int)Math.Clamp(Math.Truncate(d), 0, int.MaxValue)
                : null;
    }
}
