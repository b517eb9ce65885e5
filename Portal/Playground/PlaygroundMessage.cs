using System.Text;
using Portal.Gateway;

namespace Portal.Playground;

/// <summary>One turn of the conversation as the playground shows it.</summary>
public sealed class PlaygroundMessage
{
    // Builders: a streamed reply grows by many small pieces.
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();

    public required string Role { get; init; }

    public string Content
    {
        get => _content.ToString();
        set => _content.Clear().Append(value);
    }

    public string Reasoning => _reasoning.ToString();
    public bool HasContent => _content.Length > 0;
    public bool HasReasoning => _reasoning.Length > 0;
    public List<string> ToolCalls { get; } = [];

    /// <summary>What the reply cost and used, from its usage record.</summary>
    public Portal.Billing.UsageRecord? Record { get; set; }
    public string? FinishReason { get; set; }
    /// <summary>The reply was asked for JSON (<c>response_format</c> json_object or json_schema): shown as JSON when it is.</summary>
    public bool Structured { get; init; }
    public string? Error { get; set; }

    public void Append(ChatDelta delta)
    {
        _content.Append(delta.Content);
        _reasoning.Append(delta.ReasoningContent);
        foreach (var call in delta.ToolCalls ?? [])
        {
            if (call.Function?.Name is { } name)
            {
                ToolCalls.Add(name + "(");
            }

            if (ToolCalls.Count > 0 && call.Function?.Arguments is { } arguments)
            {
                ToolCalls[^1] += arguments;
            }
        }
    }
    public bool Streaming { get; set; }
    /// <summary>The reply was cut short by Stop.</summary>
    public bool Stopped { get; set; }
}
