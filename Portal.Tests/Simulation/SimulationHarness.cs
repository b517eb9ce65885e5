using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Gateway.Simulation;

namespace Portal.Tests.Simulation;

/// <summary>Builds requests for the simulated upstream, runs it unpaced and puts the chunks back together.</summary>
internal static class SimulationHarness
{
    public static ModelInfo Model(bool supportsReasoning = false, bool alwaysReasons = false) => new()
    {
        Id = "glm-5",
        OwnedBy = "zhipu",
        SupportsTools = true,
        SupportsJsonMode = true,
        SupportsReasoning = supportsReasoning || alwaysReasons,
        AlwaysReasons = alwaysReasons,
        MaxOutputTokens = 8192,
    };

    public static ChatRequest Request(string prompt = "Explain how a token bucket rate limiter works", int maxTokens = 8192) => new()
    {
        Raw = new JsonObject(),
        Model = "glm-5",
        Messages = [new ChatMessage("system", "You are helpful."), new ChatMessage("user", prompt)],
        MaxTokens = maxTokens,
    };

    public static FunctionTool Tool(string name, string? parametersJson) =>
        new(name, $"The {name} tool.", parametersJson is null ? null : JsonNode.Parse(parametersJson)!.AsObject());

    public static SimulatedUpstream Upstream(int tokensPerSecond = 0, int firstTokenDelayMs = 0) =>
        new(Options.Create(new SimulationOptions { TokensPerSecond = tokensPerSecond, FirstTokenDelayMs = firstTokenDelayMs }));

    public static async Task<List<ChatChunk>> RunAsync(ChatRequest request, ModelInfo? model = null)
    {
        var chunks = new List<ChatChunk>();
        await foreach (var chunk in Upstream().StreamAsync(request, model ?? Model(), "chatcmpl-test", 1_700_000_000, CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    public static async Task<Reply> ReplyAsync(ChatRequest request, ModelInfo? model = null) => Reply.From(await RunAsync(request, model));
}

internal sealed class ChoiceReply
{
    public StringBuilder Content { get; } = new();
    public StringBuilder Reasoning { get; } = new();
    public StringBuilder Arguments { get; } = new();
    public string? Role { get; set; }
    public string? ToolId { get; set; }
    public string? ToolType { get; set; }
    public string? ToolName { get; set; }
    public string? FinishReason { get; set; }

    /// <summary>What each delta carried, in order: "role", "reasoning", "content", "tool", "finish".</summary>
    public List<string> Kinds { get; } = [];
}

internal sealed record Reply(IReadOnlyList<ChatChunk> Chunks, SortedDictionary<int, ChoiceReply> Choices, ChatUsage Usage)
{
    public ChoiceReply Single => Assert.Single(Choices).Value;

    public static Reply From(List<ChatChunk> chunks)
    {
        var choices = new SortedDictionary<int, ChoiceReply>();
        foreach (var choice in chunks.SelectMany(c => c.Choices))
        {
            if (!choices.TryGetValue(choice.Index, out var reply))
            {
                choices[choice.Index] = reply = new ChoiceReply();
            }

            Assert.Null(reply.FinishReason); // nothing follows the finish chunk of a choice
            var delta = choice.Delta;
            if (delta.Role is not null)
            {
                reply.Role = delta.Role;
                reply.Kinds.Add("role");
            }

            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                reply.Reasoning.Append(delta.ReasoningContent);
                reply.Kinds.Add("reasoning");
            }

            if (!string.IsNullOrEmpty(delta.Content))
            {
                reply.Content.Append(delta.Content);
                reply.Kinds.Add("content");
            }

            foreach (var call in delta.ToolCalls ?? [])
            {
                Assert.Equal(0, call.Index);
                reply.ToolId ??= call.Id;
                reply.ToolType ??= call.Type;
                reply.ToolName ??= call.Function?.Name;
                reply.Arguments.Append(call.Function?.Arguments);
                reply.Kinds.Add("tool");
            }

            if (choice.FinishReason is not null)
            {
                reply.FinishReason = choice.FinishReason;
                reply.Kinds.Add("finish");
            }
        }

        var usage = Assert.Single(chunks, c => c.Usage is not null).Usage!;
        return new Reply(chunks, choices, usage);
    }
}
