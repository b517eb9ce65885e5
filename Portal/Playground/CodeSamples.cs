using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Playground;

/// <summary>One sample of the request: the API it calls, its language (for highlighting), its tab's label and the code.</summary>
public sealed record CodeSample(string Api, string Language, string Label, string Code);

/// <summary>
/// The playground's current request as code with a placeholder key: through chat completions in four
/// languages, through the Responses API as curl and Python, and through Anthropic's Messages API as curl
/// and Anthropic's Python SDK.
/// </summary>
public static class CodeSamples
{
    public const string KeyVariable = "PORTAL_API_KEY";

    public const string ChatApi = "Chat Completions";
    public const string ResponsesApi = "Responses";
    public const string MessagesApi = "Messages";

    /// <summary>Python literals as a reader writes them: quotes as \", other text as is (Python 3 source is UTF-8).</summary>
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<CodeSample> For(JsonObject request, string baseUrl)
    {
        var apiBase = baseUrl.TrimEnd('/') + "/api/v1";
        var json = PlaygroundSession.Pretty(request);
        var responses = ResponsesRequest.FromChat(request);
        return
        [
            new(ChatApi, "bash", "curl", Curl(json, apiBase)),
            new(ChatApi, "python", "Python", Python(request, apiBase)),
            new(ChatApi, "javascript", "JavaScript", JavaScript(json, apiBase)),
            new(ChatApi, "csharp", "C#", CSharp(request, apiBase)),
            new(ResponsesApi, "bash", "curl", Curl(PlaygroundSession.Pretty(responses), apiBase, "/responses")),
            new(ResponsesApi, "python", "Python", PythonResponses(responses, apiBase)),
            // The same conversation through Anthropic's Messages API (AnthropicSamples, docs/messages).
            new(MessagesApi, "bash", "curl", AnthropicSamples.Curl(request, apiBase)),
            new(MessagesApi, "python", "Python (Anthropic SDK)", AnthropicSamples.Python(request, baseUrl.TrimEnd('/') + "/api")),
        ];
    }

    private static string Curl(string json, string apiBase, string path = "/chat/completions") => $"""
        curl {apiBase}{path} \
          -H "Authorization: Bearer ${KeyVariable}" \
          -H "Content-Type: application/json" \
          -d '{json.Replace("'", "'\\''")}'
        """;

    private static string Python(JsonObject request, string apiBase)
    {
        var code = new StringBuilder($$"""
            import os
            from openai import OpenAI

            client = OpenAI(base_url="{{apiBase}}", api_key=os.environ["{{KeyVariable}}"])
            stream = client.chat.completions.create(

            """);
        var extra = new JsonObject();
        foreach (var (name, value) in request)
        {
            if (name is "thinking")
            {
                extra[name] = value?.DeepClone(); // not in the SDK's signature: sent as extra_body
                continue;
            }

            code.Append($"    {name}={PythonLiteral(value)},\n");
        }

        if (extra.Count > 0)
        {
            code.Append($"    extra_body={PythonLiteral(extra)},\n");
        }

        code.Append("""
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
            """);
        return code.ToString();
    }

    /// <summary>The same conversation through the Responses API (docs page "Responses API"), with the SDK's <c>client.responses.create</c>.</summary>
    private static string PythonResponses(JsonObject request, string apiBase)
    {
        var code = new StringBuilder($$"""
            import os
            from openai import OpenAI

            client = OpenAI(base_url="{{apiBase}}", api_key=os.environ["{{KeyVariable}}"])
            stream = client.responses.create(

            """);
        foreach (var (name, value) in request)
        {
            code.Append($"    {name}={PythonLiteral(value)},\n");
        }

        code.Append("""
            )
            for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
            """);
        return code.ToString();
    }

    private static string JavaScript(string json, string apiBase) => $$"""
        import OpenAI from "openai";

        const client = new OpenAI({ baseURL: "{{apiBase}}", apiKey: process.env.{{KeyVariable}} });
        const stream = await client.chat.completions.create({{json}});
        for await (const chunk of stream) {
          process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
        }
        """;

    private static string CSharp(JsonObject request, string apiBase)
    {
        var messages = request["messages"]!.AsArray().Select(m =>
        {
            var text = CSharpString(m!["content"]!.GetValue<string>());
            return m["role"]!.GetValue<string>() switch
            {
                "system" => $"new SystemChatMessage({text})",
                "assistant" => $"new AssistantChatMessage({text})",
                _ => $"new UserChatMessage({text})",
            };
        });
        var options = new List<string>();
        if (request["max_tokens"] is { } maxTokens)
        {
            options.Add($"MaxOutputTokenCount = {maxTokens}");
        }

        if (request["temperature"] is { } temperature)
        {
            options.Add($"Temperature = {temperature}f");
        }

        if (request["top_p"] is { } topP)
        {
            options.Add($"TopP = {topP}f");
        }

        if (request["response_format"] is { } format)
        {
            options.Add(format["type"]?.GetValue<string>() switch
            {
                "json_schema" => "ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("
                    + $"{CSharpString(format["json_schema"]!["name"]!.GetValue<string>())}, "
                    + $"BinaryData.FromString({CSharpString(format["json_schema"]!["schema"]!.ToJsonString())}))",
                "json_object" => "ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat()",
                _ => "ResponseFormat = ChatResponseFormat.CreateTextFormat()",
            });
        }

        return $$"""
            using System.ClientModel;
            using OpenAI;
            using OpenAI.Chat;

            var client = new ChatClient("{{request["model"]}}",
                new ApiKeyCredential(Environment.GetEnvironmentVariable("{{KeyVariable}}")!),
                new OpenAIClientOptions { Endpoint = new Uri("{{apiBase}}") });
            var options = new ChatCompletionOptions { {{string.Join(", ", options)}} };
            await foreach (var update in client.CompleteChatStreamingAsync([{{string.Join(", ", messages)}}], options))
            {
                foreach (var part in update.ContentUpdate)
                {
                    Console.Write(part.Text);
                }
            }
            """;
    }

    internal static string PythonLiteral(JsonNode? node) => node switch
    {
        null => "None",
        JsonValue v when v.TryGetValue(out bool b) => b ? "True" : "False",
        JsonObject o => "{" + string.Join(", ", o.Select(p => $"{PythonString(p.Key)}: {PythonLiteral(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(PythonLiteral)) + "]",
        _ => node.ToJsonString(Readable),
    };

    private static string PythonString(string s) => JsonValue.Create(s).ToJsonString(Readable);

    /// <summary>A C# string literal: only what C# needs escaped is (JSON's encoder would write quotes as \u0022).</summary>
    private static string CSharpString(string s)
    {
        var literal = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            literal.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return literal.Append('"').ToString();
    }
}
