using System.Text.Json.Nodes;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Playground;

namespace Portal.Tests.Playground;

public sealed class PlaygroundSessionTests
{
    private static readonly ModelInfo Glm = new()
    {
        Id = "glm-5",
        OwnedBy = "zhipu",
        SupportsTools = true,
        SupportsJsonMode = true,
        SupportsReasoning = true,
        MaxOutputTokens = 8192,
        InputPriceMicros = 1_500_000,
        OutputPriceMicros = 5_000_000,
    };

    private static PlaygroundSession Conversation()
    {
        var session = new PlaygroundSession();
        session.Settings.SystemPrompt = "Be brief.";
        session.Settings.Temperature = 0.7;
        session.Settings.TopP = 0.9;
        session.Settings.MaxTokens = 256;
        session.Settings.Thinking = true;
        session.Settings.ReasoningEffort = "high";
        session.Settings.ResponseFormat = ResponseFormatChoice.JsonObject;
        session.Messages.Add(new PlaygroundMessage { Role = "user", Content = "Hi" });
        session.Messages.Add(new PlaygroundMessage { Role = "assistant", Content = "Hello!" });
        session.Messages.Add(new PlaygroundMessage { Role = "assistant", Error = "failed turn" });
        session.Messages.Add(new PlaygroundMessage { Role = "user", Content = "And now?" });
        return session;
    }

    [Fact]
    public void TheRequestItBuildsPassesTheGatewaysValidation()
    {
        var body = Conversation().BuildRequest(Glm);

        var result = ChatRequestValidator.Validate(body, name => name == "glm-5" ? Glm : null, 8192);

        Assert.Null(result.Error);
        var request = result.Request!;
        Assert.Equal((256, 0.7, 0.9, true, "high", true, true, true), (request.MaxTokens, request.Temperature, request.TopP, request.Thinking, request.ReasoningEffort, request.JsonMode, request.Stream, request.IncludeUsage));
        Assert.Equal(["system", "user", "assistant", "user"], request.Messages.Select(m => m.Role));
    }

    [Fact]
    public void ModelsWithoutReasoningGetNoThinkingParameter()
    {
        var body = Conversation().BuildRequest(Glm with { SupportsReasoning = false });

        Assert.False(body.ContainsKey("thinking"));
        Assert.False(body.ContainsKey("reasoning_effort"));
    }

    [Fact]
    public void EditingATurnDropsItAndWhatFollowed()
    {
        var session = Conversation();

        session.TruncateFrom(1);

        Assert.Equal(["Hi"], session.Messages.Select(m => m.Content));
    }

    [Fact]
    public void CodeSamplesCarryTheSameRequestAndNoRealKey()
    {
        var body = Conversation().BuildRequest(Glm);

        var samples = CodeSamples.For(body, "http://portal.test/");

        Assert.Equal(
            ["Chat Completions: curl", "Chat Completions: Python", "Chat Completions: JavaScript", "Chat Completions: C#", "Responses: curl", "Responses: Python", "Messages: curl", "Messages: Python (Anthropic SDK)"],
            samples.Select(s => $"{s.Api}: {s.Label}"));
        Assert.All(samples.Take(7), s => Assert.Contains("http://portal.test/api/v1", s.Code));
        Assert.Contains("base_url=\"http://portal.test/api\"", samples[7].Code);
        Assert.All(samples, s => Assert.Contains(CodeSamples.KeyVariable, s.Code));
        Assert.DoesNotContain("sk-portal-", string.Concat(samples.Select(s => s.Code)));
        var curl = samples[0].Code;
        var json = curl[(curl.IndexOf("-d '", StringComparison.Ordinal) + 4)..curl.LastIndexOf('\'')];
        Assert.True(JsonNode.DeepEquals(body, JsonNode.Parse(json)));
        Assert.Contains("extra_body={\"thinking\": {\"type\": \"enabled\"}}", samples[1].Code);
        Assert.Contains("MaxOutputTokenCount = 256", samples[3].Code);

        // The Anthropic samples: a Messages body the Messages API takes, holding the same conversation.
        var messagesCurl = samples[6].Code;
        Assert.Contains("/api/v1/messages", messagesCurl);
        var messagesBody = JsonNode.Parse(messagesCurl[(messagesCurl.IndexOf("-d '", StringComparison.Ordinal) + 4)..messagesCurl.LastIndexOf('\'')])!;
        var translated = Portal.Gateway.Messages.MessagesTranslator.Translate(messagesBody);
        Assert.Null(translated.Error);
        Assert.Equal(
            body["messages"]!.AsArray().Select(m => (m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>())),
            translated.Chat!["messages"]!.AsArray().Select(m => (m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>())));
        Assert.Equal(256, messagesBody["max_tokens"]!.GetValue<int>());
        Assert.Contains("client.messages.stream(", samples[7].Code);
        Assert.Contains("max_tokens=256,", samples[7].Code);
    }

    [Fact]
    public void TheResponsesSamplesAskForTheSameConversationAsTheChatRequest()
    {
        var session = Conversation();
        session.Settings.ResponseFormat = ResponseFormatChoice.JsonSchema;
        session.Settings.SchemaName = "city_answer";
        var structured = Glm with { SupportsStructuredOutputs = true };
        var body = session.BuildRequest(structured);

        var samples = CodeSamples.For(body, "http://portal.test/");

        var curl = samples[4].Code;
        Assert.StartsWith("curl http://portal.test/api/v1/responses", curl);
        var responses = JsonNode.Parse(curl[(curl.IndexOf("-d '", StringComparison.Ordinal) + 4)..curl.LastIndexOf('\'')]);
        // Translated back by the gateway, it is the playground's request: the same messages, limits and format.
        var translated = Portal.Gateway.Responses.ResponsesTranslator.Translate(responses);
        Assert.Null(translated.Error);
        foreach (var name in (string[])["model", "messages", "max_tokens", "response_format", "stream"])
        {
            Assert.True(JsonNode.DeepEquals(body[name], translated.Chat![name]), $"{name}: {body[name]?.ToJsonString()} became {translated.Chat![name]?.ToJsonString()}");
        }

        Assert.Contains("client.responses.create(", samples[5].Code);
        Assert.Contains("max_output_tokens=256", samples[5].Code);
        Assert.Contains("text={\"format\": {\"type\": \"json_schema\", \"name\": \"city_answer\"", samples[5].Code);
        Assert.Contains("response.output_text.delta", samples[5].Code);
    }

    [Fact]
    public void AJsonSchemaGoesIntoTheRequestAndEveryCodeSampleAndFallsBackToTextWhereTheModelHasNoStructuredOutputs()
    {
        var session = Conversation();
        session.Settings.ResponseFormat = ResponseFormatChoice.JsonSchema;
        session.Settings.SchemaName = "city_answer";
        var structured = Glm with { SupportsStructuredOutputs = true };

        var body = session.BuildRequest(structured);

        var result = ChatRequestValidator.Validate(body, _ => structured, 8192);
        Assert.Null(result.Error);
        Assert.Equal("city_answer", result.Request!.ResponseSchema!.Name);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(PlaygroundResponseFormat.ExampleSchema), body["response_format"]!["json_schema"]!["schema"]));
        var samples = CodeSamples.For(body, "http://portal.test/");
        var curl = samples[0].Code;
        Assert.True(JsonNode.DeepEquals(body, JsonNode.Parse(curl[(curl.IndexOf("-d '", StringComparison.Ordinal) + 4)..curl.LastIndexOf('\'')])));
        Assert.Contains("response_format={\"type\": \"json_schema\", \"json_schema\": {\"name\": \"city_answer\", \"schema\": {\"type\": \"object\"", samples[1].Code);
        Assert.Contains("\"additionalProperties\": False", samples[1].Code);
        Assert.Contains("\"type\": \"json_schema\"", samples[2].Code);
        Assert.Contains("ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat(\"city_answer\", BinaryData.FromString(\"{\\\"type\\\":\\\"object\\\"", samples[3].Code);

        // glm-5 here takes JSON mode but not schemas: the request asks for neither rather than being refused.
        Assert.False(session.BuildRequest(Glm).ContainsKey("response_format"));
        Assert.Null(PlaygroundResponseFormat.Problem(session.Settings, Glm));
    }

    [Fact]
    public void ASchemaThatIsNotJsonIsExplainedWithItsLineAndColumnCountedFromOne()
    {
        var settings = new PlaygroundSettings { ResponseFormat = ResponseFormatChoice.JsonSchema, SchemaText = "{\n  \"type\": object\n}" };

        var problem = PlaygroundResponseFormat.Problem(settings, Glm with { SupportsStructuredOutputs = true });

        Assert.StartsWith("The schema is not valid JSON (line 2, column 11): ", problem);
        Assert.DoesNotContain("LineNumber", problem);
    }

    [Fact]
    public void ErrorsAreExplainedInPlainWords()
    {
        Assert.Contains("switched off", PlaygroundSink.PlainWords(ApiError.Unavailable()));
        Assert.StartsWith("Your credits don't cover", PlaygroundSink.PlainWords(ApiError.InsufficientQuota("It affords max_tokens = 10.")));
        Assert.Contains("only charged for what arrived", PlaygroundSink.PlainWords(ApiError.Upstream("boom.")));
    }
}
