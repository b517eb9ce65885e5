using System.Text.Json.Nodes;
using Portal.Gateway.Simulation;

namespace Portal.Tests.Simulation;

public class JsonSchemaSampleTests
{
    public static TheoryData<string> Schemas => new()
    {
        // A typical function: required string, optional enum, no extras.
        """{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"],"additionalProperties":false}""",
        // Numeric bounds, both drafts of exclusive bounds, multipleOf.
        """{"type":"object","properties":{"count":{"type":"integer","minimum":10,"maximum":20},"ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1},"step":{"type":"integer","multipleOf":7,"minimum":50},"price":{"type":"number","multipleOf":0.01,"minimum":2.345},"old":{"type":"number","minimum":5,"exclusiveMinimum":true,"maximum":6},"below":{"type":"integer","exclusiveMaximum":-3},"tiny":{"type":"number","maximum":0.5}},"required":["count","ratio","step"]}""",
        // String lengths and formats.
        """{"type":"object","properties":{"code":{"type":"string","minLength":12,"maxLength":12},"short":{"type":"string","maxLength":3},"when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},"id":{"type":"string","format":"uuid"},"mail":{"type":"string","format":"email"},"site":{"type":"string","format":"uri"}},"required":["code","short"]}""",
        // Arrays: unique enum items, empty-only, tuples, nested.
        """{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","enum":["a","b","c"]},"minItems":2,"maxItems":3,"uniqueItems":true},"none":{"type":"array","items":{"type":"integer"},"maxItems":0},"pair":{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}],"items":false},"matrix":{"type":"array","items":{"type":"array","items":{"type":"number"},"minItems":2}},"ids":{"type":"array","items":{"type":"integer","maximum":3},"minItems":3,"uniqueItems":true}},"required":["tags"]}""",
        // Nested objects, nullable types, null.
        """{"type":"object","properties":{"user":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":["integer","null"],"minimum":0},"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","minLength":5}},"required":["city","zip"],"additionalProperties":false}},"required":["name","address"]},"flag":{"type":"boolean"},"nothing":{"type":"null"}},"required":["user","flag"]}""",
        // Combinators and const.
        """{"type":"object","properties":{"choice":{"anyOf":[{"type":"integer","minimum":3},{"type":"string"}]},"one":{"oneOf":[{"type":"string","maxLength":2},{"type":"integer"}]},"both":{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"integer"}},"required":["b"]}]},"fixed":{"const":"v1"}},"required":["choice","one","both","fixed"]}""",
        // Pydantic-style $defs, recursive.
        """{"$defs":{"Node":{"type":"object","properties":{"label":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["label"]},"Color":{"type":"string","enum":["red","green"]}},"type":"object","properties":{"root":{"$ref":"#/$defs/Node"},"color":{"$ref":"#/$defs/Color"}},"required":["root","color"]}""",
        // Draft-4 definitions, minProperties beyond the declared ones.
        """{"type":"object","definitions":{"P":{"type":"integer","maximum":-5}},"properties":{"p":{"$ref":"#/definitions/P"}},"required":["p"],"minProperties":3}""",
        // No types at all.
        """{"properties":{"anything":{},"count":{"minimum":2}},"required":["anything","count"]}""",
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void GeneratedValueSatisfiesTheSchema(string schemaJson)
    {
        var schema = JsonNode.Parse(schemaJson)!;

        var value = JsonSchemaSample.Generate(schema, "weather in Paris");

        Assert.Empty(SchemaCheck.Errors(value, schema));
    }

    [Fact]
    public void MissingSchemaGivesAnEmptyObject() =>
        Assert.Equal("{}", JsonSchemaSample.Generate(null)!.ToJsonString());

    [Fact]
    public void EveryPropertyIsFilledInAndFreeTextComesFromTheCaller()
    {
        var schema = JsonNode.Parse("""{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"},"exact":{"type":"boolean"}},"required":["query"]}""");

        var value = JsonSchemaSample.Generate(schema, "cheap flights to Lisbon")!.AsObject();

        Assert.Equal("cheap flights to Lisbon", value["query"]!.GetValue<string>());
        Assert.Equal(1, value["limit"]!.GetValue<long>());
        Assert.True(value["exact"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""{"type":"array","minItems":1000000000,"items":{"type":"string","minLength":1000000000}}""")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#"},"b":{"$ref":"#"},"c":{"$ref":"#"}},"required":["a","b","c"]}""")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"number","minimum":1e300,"multipleOf":1e-300}},"minProperties":2000000000}""")]
    public void HostileSchemasGiveABoundedValue(string schemaJson)
    {
        var value = JsonSchemaSample.Generate(JsonNode.Parse(schemaJson), "x");

        Assert.NotNull(value);
        Assert.InRange(value.ToJsonString().Length, 1, 2_000_000);
    }

    [Fact]
    public void SchemasBuiltInCodeWorkToo()
    {
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["n"] = new JsonObject { ["type"] = "integer", ["minimum"] = 40, ["maximum"] = 42 } },
            ["required"] = new JsonArray("n"),
        };

        var value = JsonSchemaSample.Generate(schema);

        Assert.Empty(SchemaCheck.Errors(value, schema));
    }
}
