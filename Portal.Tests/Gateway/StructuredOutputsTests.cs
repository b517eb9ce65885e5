using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;
using Portal.Catalog;
using Portal.Tests.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.Tests.Gateway;

/// <summary>
/// <c>response_format: {"type":"json_schema"}</c> (structured outputs, ADR 22): checked as OpenAI checks
/// it, answered by the simulated upstream with JSON that satisfies the schema, passed on to a real
/// provider unchanged, and refused with the model's name where the model lacks it.
/// </summary>
public sealed class StructuredOutputsTests : IDisposable
{
    /// <summary>What Vercel's generateObject and LangChain's withStructuredOutput send: strict, closed, nested.</summary>
    private const string Recipe = """
        {
          "type": "object",
          "properties": {
            "title": { "type": "string", "minLength": 3 },
            "servings": { "type": "integer", "minimum": 1, "maximum": 12 },
            "difficulty": { "type": "string", "enum": ["easy", "medium", "hard"] },
            "vegetarian": { "type": "boolean" },
            "ingredients": {
              "type": "array",
              "minItems": 2,
              "items": {
                "type": "object",
                "properties": {
                  "name": { "type": "string" },
                  "grams": { "type": ["number", "null"], "exclusiveMinimum": 0 },
                  "unit": { "anyOf": [{ "type": "string", "enum": ["g", "ml"] }, { "type": "null" }] }
                },
                "required": ["name", "grams", "unit"],
                "additionalProperties": false
              }
            },
            "source": { "$ref": "#/$defs/source" }
          },
          "required": ["title", "servings", "difficulty", "vegetarian", "ingredients", "source"],
          "additionalProperties": false,
          "$defs": {
            "source": {
              "type": "object",
              "properties": { "book": { "type": "string" }, "page": { "type": "integer", "minimum": 1 } },
              "required": ["book", "page"],
              "additionalProperties": false
            }
          }
        }
        """;

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    public void Dispose() => _app.Dispose();

    private static ChatCompletionOptions RecipeFormat() => new()
    {
        ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("recipe", BinaryData.FromString(Recipe), "A recipe", jsonSchemaIsStrict: true),
    };

    private static void AssertSatisfiesRecipe(string reply)
    {
        using var document = JsonDocument.Parse(reply);
        var results = JsonSchema.FromText(Recipe).Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, $"{reply}\ndoes not satisfy the schema:\n" + string.Join("\n", (results.Details ?? []).Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public async Task TheSimulatedUpstreamAnswersTheSdkWithJsonThatSatisfiesTheSchema()
    {
        var account = await _app.CreateApiAccountAsync();
        var chat = _app.OpenAiChat(account.Key);

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("A soup for a cold evening, please.")], RecipeFormat());

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        AssertSatisfiesRecipe(completion.Content[0].Text);

        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("A salad, quickly.")], RecipeFormat()))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        AssertSatisfiesRecipe(streamed.ToString());
    }

    [Fact]
    public async Task AModelsUpstreamReceivesTheResponseFormatUnchanged()
    {
        var reply = """{"title":"Soup","servings":2,"difficulty":"easy","vegetarian":true,"ingredients":[{"name":"leek","grams":200,"unit":"g"},{"name":"water","grams":null,"unit":"ml"}],"source":{"book":"B","page":3}}""";
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content(reply, finishReason: "stop"), Chunks.Usage(prompt: 40, completion: 50)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync();
        var format = JsonNode.Parse("""{"type":"json_schema","json_schema":{"name":"recipe","description":"A recipe","strict":true,"schema":""" + Recipe + "}}");

        var response = await _app.ApiClient(account.Key).PostChatAsync(new JsonObject
        {
            ["model"] = "glm-5",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Soup" }),
            ["response_format"] = format!.DeepClone(),
        }.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(reply, (await response.JsonBodyAsync())["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        var sent = Assert.Single(provider.Requests).Body!["response_format"];
        Assert.True(JsonNode.DeepEquals(format, sent), $"the provider received {sent?.ToJsonString()}");

        // Through the official SDK too: whatever it sends of the format is what the provider gets.
        ChatCompletion viaSdk = await _app.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Soup")], RecipeFormat());
        AssertSatisfiesRecipe(viaSdk.Content[0].Text);
        var sdkFormat = provider.Requests[1].Body!["response_format"]!;
        Assert.Equal(("json_schema", "recipe", true), (sdkFormat["type"]!.GetValue<string>(), sdkFormat["json_schema"]!["name"]!.GetValue<string>(), sdkFormat["json_schema"]!["strict"]!.GetValue<bool>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Recipe), sdkFormat["json_schema"]!["schema"]));
    }

    public static TheoryData<string, string> BadFormats => new()
    {
        { """{"type":"json_schema"}""", "response_format.json_schema" },
        { """{"type":"json_schema","json_schema":"recipe"}""", "response_format.json_schema" },
        { """{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}""", "response_format.json_schema.name" },
        { """{"type":"json_schema","json_schema":{"name":"","schema":{"type":"object"}}}""", "response_format.json_schema.name" },
        { """{"type":"json_schema","json_schema":{"name":"my recipe","schema":{"type":"object"}}}""", "response_format.json_schema.name" },
        { "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"" + new string('n', 65) + "\",\"schema\":{\"type\":\"object\"}}}", "response_format.json_schema.name" },
        { """{"type":"json_schema","json_schema":{"name":7,"schema":{"type":"object"}}}""", "response_format.json_schema.name" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","description":5,"schema":{"type":"object"}}}""", "response_format.json_schema.description" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","strict":"yes","schema":{"type":"object"}}}""", "response_format.json_schema.strict" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","schema":"object"}}""", "response_format.json_schema.schema" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","schema":[{"type":"object"}]}}""", "response_format.json_schema.schema" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","schema":null}}""", "response_format.json_schema.schema" },
        { """{"type":"json_schema","json_schema":{"name":"recipe","schema":""" + Nested(33) + "}}", "response_format.json_schema.schema" },
        { "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"recipe\",\"schema\":{\"type\":\"object\",\"description\":\"" + new string('d', 70_000) + "\"}}}", "response_format.json_schema.schema" },
        { """{"type":"json_scheme"}""", "response_format.type" },
    };

    /// <summary>A schema whose JSON nests <paramref name="depth"/> levels deep, the outermost object counted as 1.</summary>
    private static string Nested(int depth)
    {
        // Each property schema is two levels below its parent ("properties", then the schema).
        var wrappers = (depth - 1) / 2;
        var innermost = depth % 2 == 1 ? "{}" : """{"enum":[1]}""";
        return string.Concat(Enumerable.Repeat("""{"type":"object","properties":{"a":""", wrappers)) + innermost + string.Concat(Enumerable.Repeat("}}", wrappers));
    }

    [Theory]
    [MemberData(nameof(BadFormats))]
    public async Task ABadJsonSchemaFormatIs400NamingTheField(string format, string param)
    {
        var account = await _app.CreateApiAccountAsync();

        var response = await _app.ApiClient(account.Key).PostChatAsync(
            $$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{{format}}}""");

        await GatewayFixtures.AssertErrorAsync(response, 400, "invalid_request_error", param);
    }

    [Fact]
    public async Task TheDeepestAndLargestSchemasAllowedAreAccepted()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);
        var padding = new string('d', 64 * 1024 - """{"type":"object","description":""}""".Length);

        foreach (var schema in new[] { Nested(32), $$"""{"type":"object","description":"{{padding}}"}""" })
        {
            var response = await client.PostChatAsync(
                """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":50,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":""" + schema + "}}}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task AModelWithoutStructuredOutputsRefusesWithItsName()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);
        const string Format = """{"type":"json_schema","json_schema":{"name":"recipe","schema":{"type":"object"}}}""";

        // deepseek-r1's provider takes json_object, not json_schema.
        var response = await client.PostChatAsync($$"""{"model":"deepseek-r1","messages":[{"role":"user","content":"Hi"}],"response_format":{{Format}}}""");

        var error = await GatewayFixtures.AssertErrorAsync(response, 400, "unsupported_parameter", "response_format");
        Assert.Contains("'deepseek-r1'", error["message"]!.GetValue<string>());
        Assert.Contains("json_schema", error["message"]!.GetValue<string>());

        // The capability is the admin's to set per model, and /api/v1/models shows it.
        await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").ExecuteUpdateAsync(m => m.SetProperty(x => x.SupportsStructuredOutputs, false)));
        _app.Services.GetRequiredService<ModelCatalog>().Invalidate();
        var glm = await client.PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"response_format":{{Format}}}""");
        await GatewayFixtures.AssertErrorAsync(glm, 400, "unsupported_parameter", "response_format");
        var models = (await (await client.GetAsync("/api/v1/models")).JsonBodyAsync())["data"]!.AsArray();
        var shown = models.ToDictionary(m => m!["id"]!.GetValue<string>(), m => m!["supports_structured_outputs"]!.GetValue<bool>());
        Assert.Equal((false, false, true), (shown["glm-5"], shown["deepseek-r1"], shown["kimi-k2"]));
    }
}
