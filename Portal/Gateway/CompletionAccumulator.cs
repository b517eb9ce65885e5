using System.Text;

namespace Portal.Gateway;

/// <summary>
/// Follows a completion chunk by chunk: assembles the non-streaming reply, keeps the upstream's
/// usage, and counts what was delivered so a cut-short stream is charged for exactly that.
/// </summary>
public sealed class CompletionAccumulator
{
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private readonly StringBuilder _delivered = new();

    public ChatUsage? ReportedUsage { get; private set; }

    /// <summary>The provider's <c>usage</c> as it wrote it, for the fields Portal does not read (ADR 24).</summary>
    public byte[]? ReportedUsageJson { get; private set; }

    public bool AnyOutput { get; private set; }

    /// <summary>Takes in one upstream chunk.</summary>
    public void Add(UpstreamChunk upstream)
    {
        var chunk = upstream.Facts;
        if (chunk.Usage is not null)
        {
            ReportedUsage = chunk.Usage;
            ReportedUsageJson = upstream.Usage;
        }

        foreach (var choice in chunk.Choices)
        {
            if (!_choices.TryGetValue(choice.Index, out var state))
            {
                _choices[choice.Index] = state = new ChoiceState();
            }

            var delta = choice.Delta;
            state.Content.Append(delta.Content);
            state.Reasoning.Append(delta.ReasoningContent);
            foreach (var call in delta.ToolCalls ?? [])
            {
                if (!state.ToolCalls.TryGetValue(call.Index, out var tool))
                {
                    state.ToolCalls[call.Index] = tool = new ToolState();
                }

                tool.Id ??= call.Id;
                tool.Name ??= call.Function?.Name;
                tool.Arguments.Append(call.Function?.Arguments);
            }

            if (choice.Logprobs is { } logprobs)
            {
                (state.Logprobs ??= []).AddRange(logprobs.Content);
            }

            state.FinishReason = choice.FinishReason ?? state.FinishReason;
            AnyOutput |= !string.IsNullOrEmpty(delta.Content) || !string.IsNullOrEmpty(delta.ReasoningContent) || delta.ToolCalls is { Count: > 0 };
        }
    }

    /// <summary>Notes that a chunk reached the client (streaming), for partial charging.</summary>
    public void Delivered(ChatChunk chunk)
    {
        foreach (var choice in chunk.Choices)
        {
            _delivered.Append(choice.Delta.ReasoningContent).Append(' ').Append(choice.Delta.Content).Append(' ');
            foreach (var call in choice.Delta.ToolCalls ?? [])
            {
                _delivered.Append(call.Function?.Name).Append(' ').Append(call.Function?.Arguments).Append(' ');
            }
        }
    }

    /// <summary>Completion tokens of what was delivered, by Portal's token rule.</summary>
    public int DeliveredTokens => TokenEstimator.Count(_delivered.ToString());

    /// <summary>Completion tokens of everything received, by Portal's token rule.</summary>
    public int ReceivedTokens()
    {
        var all = new StringBuilder();
        foreach (var state in _choices.Values)
        {
            all.Append(state.Reasoning).Append(' ').Append(state.Content).Append(' ');
            foreach (var tool in state.ToolCalls.Values)
            {
                all.Append(tool.Name).Append(' ').Append(tool.Arguments).Append(' ');
            }
        }

        return TokenEstimator.Count(all.ToString());
    }

    public IReadOnlyList<CompletionChoice> Choices() => _choices.Select(pair => new CompletionChoice
    {
        Index = pair.Key,
        FinishReason = pair.Value.FinishReason,
        Logprobs = pair.Value.Logprobs is { } logprobs ? new ChoiceLogprobs(logprobs) : null,
        Message = new AssistantMessage
        {
            Content = pair.Value.ToolCalls.Count > 0 && pair.Value.Content.Length == 0 ? null : pair.Value.Content.ToString(),
            ReasoningContent = pair.Value.Reasoning.Length > 0 ? pair.Value.Reasoning.ToString() : null,
            ToolCalls = pair.Value.ToolCalls.Count == 0
                ? null
                : pair.Value.ToolCalls.Values.Select(t => new ToolCall
                {
                    Id = t.Id ?? "",
                    Function = new FunctionCall { Name = t.Name ?? "", Arguments = t.Arguments.ToString() },
                }).ToList(),
        },
    }).ToList();

    private sealed class ChoiceState
    {
        public StringBuilder Content { get; } = new();
        public StringBuilder Reasoning { get; } = new();
        public SortedDictionary<int, ToolState> ToolCalls { get; } = [];
        public List<TokenLogprob>? Logprobs { get; set; }
        public string? FinishReason { get; set; }
    }

    private sealed class ToolState
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public StringBuilder Arguments { get; } = new();
    }
}
