using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Tests.Gateway;

namespace Portal.Tests.Docs;

/// <summary>
/// The docs' SDK examples, run as written against a Portal behind a real loopback port: the C# ones are
/// compiled into this file (a test checks they match the docs word for word), the JavaScript ones run
/// in Node with the official <c>openai</c> package, and the Python ones run with a stand-in for the
/// <c>openai</c> package (Examples/python; the real one cannot be installed here) that sends the same
/// requests.
/// </summary>
public sealed class DocsSdkExamplesTests : IAsyncLifetime
{
    private const string KeyVariable = "PORTAL_API_KEY";
    private static readonly SemaphoreSlim NpmInstall = new(1, 1);

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    });

    private LoopbackRelay? _relay;
    private ApiAccount? _account;

    private LoopbackRelay Relay => _relay!;

    private ApiAccount Account => _account!;

    public async Task InitializeAsync()
    {
        _account = await _app.CreateApiAccountAsync(20m, new NewApiKey("sdk examples", RateLimitPerMinute: 600));
        _relay = await LoopbackRelay.StartAsync(_app);
    }

    public async Task DisposeAsync()
    {
        if (_relay is not null)
        {
            await _relay.DisposeAsync();
        }

        _app.Dispose();
    }

    // ---- C#: the examples themselves, between the markers, exactly as the docs show them ----

    [Fact]
    public async Task QuickstartCSharpExampleRuns()
    {
        var printed = await CapturingConsoleAsync(async baseUrl =>
        {
            // docs-example
            ChatClient client = new(
                model: "glm-5",
                credential: new ApiKeyCredential(Environment.GetEnvironmentVariable("PORTAL_API_KEY")!),
                options: new OpenAIClientOptions { Endpoint = new Uri(baseUrl) });

            ChatCompletion completion = await client.CompleteChatAsync(
                new SystemChatMessage("You are a concise assistant."),
                new UserChatMessage("Suggest three names for a coffee shop."));

            Console.WriteLine(completion.Content[0].Text);
            Console.WriteLine($"{completion.Usage.TotalTokenCount} tokens");
            // end docs-example
        });

        Assert.Matches(@"\d+ tokens", printed);
        await AssertAnsweredAsync(requests: 1);
    }

    [Fact]
    public async Task StreamingCSharpExampleRuns()
    {
        var printed = await CapturingConsoleAsync(async baseUrl =>
        {
            // docs-example
            ChatClient client = new(
                model: "glm-5",
                credential: new ApiKeyCredential(Environment.GetEnvironmentVariable("PORTAL_API_KEY")!),
                options: new OpenAIClientOptions { Endpoint = new Uri(baseUrl) });

            await foreach (StreamingChatCompletionUpdate update in client.CompleteChatStreamingAsync(
                [new UserChatMessage("Write a limerick about a lighthouse.")],
                new ChatCompletionOptions()))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    Console.Write(part.Text);
                }

                if (update.Usage is { } usage)
                {
                    Console.WriteLine($"\n{usage.TotalTokenCount} tokens");
                }
            }
            // end docs-example
        });

        Assert.Matches(@"lighthouse[\s\S]*\n\d+ tokens", printed);
        await AssertAnsweredAsync(requests: 1);
    }

    [Fact]
    public void EveryCSharpExampleInTheDocsIsCompiledAndRunHere()
    {
        var regions = CompiledExamples();
        var blocks = DocsSource.CodeBlocks("csharp").ToList();

        Assert.Equal(regions.Count, blocks.Count);
        var source = File.ReadAllText(ThisFile());
        foreach (var block in blocks)
        {
            var lines = block.Code.Split('\n').ToList();
            foreach (var directive in lines.Where(l => l.StartsWith("using ", StringComparison.Ordinal)))
            {
                Assert.Contains(directive, source); // the file compiles with the same namespaces
            }

            var body = string.Join('\n', lines.SkipWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Length == 0))
                .Replace("new Uri(\"{{base_url}}\")", "new Uri(baseUrl)", StringComparison.Ordinal).Trim();
            Assert.True(regions.Contains(body), $"{block} is not among the examples compiled in {nameof(DocsSdkExamplesTests)}:\n{body}");
        }
    }

    // ---- Python and JavaScript: the docs' code blocks, run as programs ----

    public static TheoryData<string> PythonExamples() => new(DocsSource.CodeBlocks("python").Select(b => b.ToString()));

    [RequiresCommandTheory("python3")]
    [MemberData(nameof(PythonExamples))]
    public async Task PythonExampleRuns(string example)
    {
        var block = DocsSource.CodeBlocks("python").Single(b => b.ToString() == example);
        var folder = Directory.CreateTempSubdirectory("portal-docs-py-").FullName;
        try
        {
            var file = Path.Combine(folder, "example.py");
            await File.WriteAllTextAsync(file, WithBaseUrl(block.Code));

            var result = await ExternalCommand.RunAsync("python3", [file], folder, new Dictionary<string, string>
            {
                [KeyVariable] = Account.Key,
                ["PYTHONPATH"] = Path.Combine(DocsSource.TestFolder(), "Examples", "python"),
                ["PYTHONDONTWRITEBYTECODE"] = "1",
            });

            Assert.True(result.ExitCode == 0 && result.Stdout.Trim().Length > 0, $"{example}: {result}");
            await AssertAnsweredAsync(requests: 1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static TheoryData<string> JavaScriptExamples() => new(DocsSource.CodeBlocks("javascript").Select(b => b.ToString()));

    [RequiresCommandTheory("node")]
    [MemberData(nameof(JavaScriptExamples))]
    public async Task JavaScriptExampleRunsWithTheOfficialSdk(string example)
    {
        var block = DocsSource.CodeBlocks("javascript").Single(b => b.ToString() == example);
        var folder = await NodeProjectAsync();
        var file = Path.Combine(folder, $"example-{Guid.NewGuid():N}.mjs");
        try
        {
            await File.WriteAllTextAsync(file, WithBaseUrl(block.Code));

            var result = await ExternalCommand.RunAsync("node", [file], folder, new Dictionary<string, string> { [KeyVariable] = Account.Key });

            Assert.True(result.ExitCode == 0 && result.Stdout.Trim().Length > 0, $"{example}: {result}");
            await AssertAnsweredAsync(requests: 1);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void EveryLanguageHasItsExamples()
    {
        Assert.True(DocsSource.CodeBlocks("python").Count() >= 3);
        Assert.True(DocsSource.CodeBlocks("javascript").Count() >= 3);
        Assert.True(DocsSource.CodeBlocks("csharp").Count() >= 2);
    }

    // ---- helpers ----

    private string WithBaseUrl(string code) => code.Replace("{{base_url}}", Relay.ApiBaseUrl.TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>Runs a C# example with the key in the environment, as the docs assume, and returns what it printed.</summary>
    private async Task<string> CapturingConsoleAsync(Func<string, Task> example)
    {
        var output = new StringWriter();
        var original = Console.Out;
        Environment.SetEnvironmentVariable(KeyVariable, Account.Key);
        Console.SetOut(output);
        try
        {
            await example(Relay.ApiBaseUrl.TrimEnd('/'));
        }
        finally
        {
            Console.SetOut(original);
            Environment.SetEnvironmentVariable(KeyVariable, null);
        }

        return output.ToString();
    }

    /// <summary>Portal answered the example's requests, all successfully, and charged for them.</summary>
    private async Task AssertAnsweredAsync(int requests)
    {
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.ApiKeyId == Account.KeyId).ToListAsync());
        Assert.True(records.Count >= requests, $"Portal saw {records.Count} requests");
        Assert.All(records, r => Assert.Equal((200, null), (r.Status, r.ErrorCode)));
        Assert.All(records, r => Assert.True(r.CostMicros > 0));
    }

    /// <summary>A folder with the pinned <c>openai</c> npm package installed (Examples/js), kept between runs.</summary>
    private static async Task<string> NodeProjectAsync()
    {
        var source = Path.Combine(DocsSource.TestFolder(), "Examples", "js");
        var folder = Path.Combine(AppContext.BaseDirectory, "docs-js-examples");
        await NpmInstall.WaitAsync();
        try
        {
            var wanted = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(source, "package.json")))!["dependencies"]!["openai"]!.GetValue<string>();
            var installed = Path.Combine(folder, "node_modules", "openai", "package.json");
            if (!File.Exists(installed) || JsonNode.Parse(await File.ReadAllTextAsync(installed))!["version"]!.GetValue<string>() != wanted)
            {
                Directory.CreateDirectory(folder);
                File.Copy(Path.Combine(source, "package.json"), Path.Combine(folder, "package.json"), overwrite: true);
                File.Copy(Path.Combine(source, "package-lock.json"), Path.Combine(folder, "package-lock.json"), overwrite: true);
                var npm = await ExternalCommand.RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], folder, timeout: TimeSpan.FromMinutes(5));
                Assert.True(npm.ExitCode == 0, $"npm ci (the openai package for the JavaScript examples) failed: {npm}");
            }

            return folder;
        }
        finally
        {
            NpmInstall.Release();
        }
    }

    /// <summary>The C# examples compiled above: the lines between the markers, indentation removed.</summary>
    private static HashSet<string> CompiledExamples()
    {
        var examples = new HashSet<string>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in File.ReadLines(ThisFile()))
        {
            var trimmed = line.Trim();
            if (trimmed == "// docs-example")
            {
                current = [];
            }
            else if (trimmed == "// end docs-example" && current is not null)
            {
                var indent = current.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
                examples.Add(string.Join('\n', current.Select(l => l.Length >= indent ? l[indent..] : l.Trim())).Trim());
                current = null;
            }
            else
            {
                current?.Add(line);
            }
        }

        return examples;
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
