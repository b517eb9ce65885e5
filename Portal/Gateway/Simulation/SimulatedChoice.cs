using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Catalog;

namespace Portal.Gateway.Simulation;

/// <summary>One step of a simulated choice: the chunk's choice, and how many tokens it carries (for pacing and usage).</summary>
internal sealed record SimulatedStep(ChunkChoice Choice, int Tokens);

/// <summary>
/// One choice of a simulated reply, decided in full before streaming starts: its chunks in order,
/// what they count, and why it finished.
/// </summary>
internal sealed record SimulatedChoice(IReadOnlyList<SimulatedStep> Steps, int CompletionTokens, int ReasoningTokens, string FinishReason)
{
    /// <summary>JSON as a model writes it: compact, non-ASCII left readable (only quotes, backslashes and controls escaped).</summary>
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly HashSet<string> NoReasoningEfforts = ["none", "minimal"];

    public static SimulatedChoice Plan(ChatRequest request, ModelInfo model, int index)
    {
        var random = Seeded(request, model, index);
        var lastUser = request.Messages.LastOrDefault(m => m.Role == "user")?.Text;
        var topic = SimulatedText.Topic(lastUser);
        var steps = new List<SimulatedStep> { Step(index, new ChatDelta { Role = "assistant", Content = "" }) };
        var budget = Math.Max(0, request.MaxTokens);
        var reasoningTokens = 0;
        var cut = false;

        if (Reasons(request, model))
        {
            var (low, high) = ReasoningLength(request.ReasoningEffort);
            var reasoning = TokenPieces.Split(SimulatedText.Reasoning(random, topic, random.Next(low, high + 1)));
            reasoningTokens = Math.Min(reasoning.Count, budget);
            cut = reasoning.Count > budget;
            steps.AddRange(reasoning.Take(reasoningTokens).Select(p => Step(index, new ChatDelta { ReasoningContent = p }, 1)));
            budget -= reasoningTokens;
        }

        var outputTokens = 0;
        var finish = "length";
        if (!cut)
        {
            (outputTokens, finish) = ToolToCall(request) is { } tool
                ? CallTool(tool, request, random, index, budget, steps)
                : Answer(request, model, random, index, topic, budget, steps);
        }

        steps.Add(new SimulatedStep(new ChunkChoice { Index = index, FinishReason = finish }, 0));
        if (request.Logprobs)
        {
            WithLogprobs(steps, request.TopLogprobs, Seeded(request, model, index));
        }

        return new SimulatedChoice(steps, reasoningTokens + outputTokens, reasoningTokens, finish);
    }

    /// <summary>Reasoning for models that always reason, or on request (<c>thinking</c> enabled) unless the effort asks for none.</summary>
    public static bool Reasons(ChatRequest request, ModelInfo model) =>
        model.AlwaysReasons
        || (model.SupportsReasoning && request.Thinking == true && !NoReasoningEfforts.Contains(request.ReasoningEffort ?? ""));

    /// <summary>
    /// The function a reply calls, if any: the named one; with <c>required</c> or (with <c>auto</c>) after
    /// a user message, the first tool whose name shares a word with that message, else the first tool.
    /// After a tool result, <c>auto</c> answers in text, as a model does once it has what it asked for.
    /// </summary>
    public static FunctionTool? ToolToCall(ChatRequest request)
    {
        if (request.Tools.Count == 0)
        {
            return null;
        }

        switch (request.ToolChoice)
        {
            case ToolChoice.None:
                return null;
            case ToolChoice.Named:
                return request.Tools.FirstOrDefault(t => t.Name == request.ToolChoiceName);
            case ToolChoice.Auto when request.Messages.Count == 0 || request.Messages[^1].Role != "user":
                return null;
        }

        var prompt = request.Messages.LastOrDefault(m => m.Role == "user")?.Text ?? "";
        return request.Tools.FirstOrDefault(t => t.Name
                .Split(['_', '-', '.'], StringSplitOptions.RemoveEmptyEntries)
                .Any(word => word.Length >= 3 && prompt.Contains(word, StringComparison.OrdinalIgnoreCase)))
            ?? request.Tools[0];
    }

    private static (int Tokens, string Finish) CallTool(FunctionTool tool, ChatRequest request, StableRandom random, int index, int budget, List<SimulatedStep> steps)
    {
        // The name counts as output, as the gateway counts it (CompletionAccumulator): name + arguments.
        var nameTokens = TokenEstimator.Count(tool.Name);
        if (nameTokens > budget)
        {
            return (0, "length");
        }

        var lastUser = request.Messages.LastOrDefault(m => m.Role == "user")?.Text;
        var arguments = JsonSchemaSample.Generate(tool.Parameters, SimulatedText.Excerpt(lastUser, 60));
        var pieces = TokenPieces.Split(arguments?.ToJsonString(Json) ?? "null");
        var id = "call_" + new string(Enumerable.Range(0, 24).Select(_ => Alphabet[random.Next(0, Alphabet.Length)]).ToArray());
        steps.Add(Step(index, new ChatDelta
        {
            ToolCalls = [new ToolCallDelta { Index = 0, Id = id, Type = "function", Function = new FunctionCallDelta { Name = tool.Name, Arguments = "" } }],
        }, nameTokens));

        var fits = Math.Min(pieces.Count, budget - nameTokens);
        steps.AddRange(pieces.Take(fits).Select(p => Step(index, new ChatDelta
        {
            ToolCalls = [new ToolCallDelta { Index = 0, Function = new FunctionCallDelta { Arguments = p } }],
        }, 1)));
        return (nameTokens + fits, fits < pieces.Count ? "length" : "tool_calls");
    }

    private static (int Tokens, string Finish) Answer(ChatRequest request, ModelInfo model, StableRandom random, int index, string topic, int budget, List<SimulatedStep> steps)
    {
        var afterTool = request.Messages.Count > 0 && request.Messages[^1].Role == "tool";
        var text = SimulatedText.Answer(random, topic, random.Next(30, 201), afterTool);
        var content = request.ResponseSchema is { } schema ? SchemaReply(schema, text)
            : request.JsonMode ? JsonReply(text, model, budget)
            : text;

        var finish = "stop";
        var stopAt = request.Stop.Where(s => s.Length > 0).Select(s => content.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (stopAt >= 0)
        {
            content = content[..stopAt];
        }

        var pieces = TokenPieces.Split(content);
        var fits = Math.Min(pieces.Count, budget);
        if (fits < pieces.Count)
        {
            finish = "length";
        }

        steps.AddRange(pieces.Take(fits).Select(p => Step(index, new ChatDelta { Content = p }, 1)));
        return (fits, finish);
    }

    /// <summary>
    /// <c>{"reply":…,"model":…}</c>, the reply shortened so the whole object fits the token budget when
    /// it can: valid JSON matters more in JSON mode than the length of the reply.
    /// </summary>
    private static string JsonReply(string text, ModelInfo model, int budget)
    {
        string Wrap(string reply) => new JsonObject { ["reply"] = reply, ["model"] = model.Id }.ToJsonString(Json);

        var room = budget - TokenEstimator.Count(Wrap(""));
        var pieces = TokenPieces.Split(text);
        if (room > 0 && pieces.Count > room)
        {
            // Cut after the last whole sentence that fits, else the last whole word, else where it falls.
            text = string.Concat(pieces.Take(room));
            var end = text.LastIndexOf('.') is > 0 and var period ? period + 1 : text.LastIndexOf(' ');
            text = (end > 0 ? text[..end] : text).TrimEnd();
        }

        return Wrap(text);
    }

    /// <summary>
    /// Structured outputs: a value made from the client's schema (types, required properties, enums,
    /// arrays, nested objects, <c>additionalProperties: false</c>…, as for tool arguments), its free text
    /// taken from the simulated answer. Longer than max_tokens it is cut, with finish_reason
    /// <c>length</c>, as a provider's would be.
    /// </summary>
    private static string SchemaReply(ResponseSchema schema, string text) =>
        JsonSchemaSample.Generate(schema.Schema, SimulatedText.Excerpt(text, 60))?.ToJsonString(Json) ?? "{}";

    private static (int Low, int High) ReasoningLength(string? effort) => effort switch
    {
        "low" or "minimal" or "none" => (16, 48),
        "high" => (64, 160),
        "xhigh" or "max" => (96, 240),
        _ => (32, 96),
    };

    /// <summary>
    /// Seeded by the conversation, the model, the seed and the choice index — nothing else — so the
    /// same request always gets the same reply and choices of one request differ.
    /// </summary>
    private static StableRandom Seeded(ChatRequest request, ModelInfo model, int index)
    {
        var parts = new List<string> { "portal-simulation-1", model.Id, request.Seed?.ToString(CultureInfo.InvariantCulture) ?? "", index.ToString(CultureInfo.InvariantCulture) };
        foreach (var message in request.Messages)
        {
            parts.Add(message.Role);
            parts.Add(message.Text);
            parts.Add(message.ToolCallId ?? "");
        }

        return StableRandom.From(parts);
    }

    /// <summary>
    /// <c>logprobs</c> for each content token: made-up but stable numbers (no model computed them), the
    /// token itself the likeliest, and as alternatives other tokens of the same reply, each less likely.
    /// Drawn from a generator of their own, so asking for them does not change the reply.
    /// </summary>
    private static void WithLogprobs(List<SimulatedStep> steps, int top, StableRandom random)
    {
        var tokens = steps.Select(s => s.Choice.Delta.Content).Where(c => !string.IsNullOrEmpty(c)).Distinct().ToList()!;
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Choice.Delta.Content is not { Length: > 0 } token)
            {
                continue;
            }

            var logprob = -random.Next(0, 1500) / 1000.0;
            var alternatives = new List<TopLogprob> { new(token, logprob, Bytes(token)) };
            foreach (var other in tokens.Where(t => t != token).Take(Math.Max(0, top - 1)))
            {
                logprob -= random.Next(250, 3000) / 1000.0;
                alternatives.Add(new TopLogprob(other!, Math.Round(logprob, 3), Bytes(other!)));
            }

            var entry = new TokenLogprob(token, alternatives[0].Logprob, Bytes(token), top == 0 ? [] : alternatives);
            steps[i] = steps[i] with { Choice = steps[i].Choice with { Logprobs = new ChoiceLogprobs([entry]) } };
        }

        static int[] Bytes(string token) => System.Text.Encoding.UTF8.GetBytes(token).Select(b => (int)b).ToArray();
    }

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static SimulatedStep Step(int index, ChatDelta delta, int tokens = 0) =>
        new(new ChunkChoice { Index = index, Delta = delta }, tokens);
}
