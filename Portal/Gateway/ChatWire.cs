using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Portal.Gateway;

// OpenAI Chat Completions wire contracts, as Portal sends them to clients. Upstream chunks are read
// into the same records, so a relay is parse → account → write, one shape throughout. Id, created
// and model are optional on the way in (Portal writes its own on the way out).

public sealed record ChatChunk
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion.chunk";
    public required long Created { get; init; }
    public required string Model { get; init; }
    /// <summary>The client's <c>request_id</c>, echoed.</summary>
    public string? RequestId { get; init; }
    public IReadOnlyList<ChunkChoice> Choices { get; init; } = [];
    public ChatUsage? Usage { get; init; }
}

public sealed record ChunkChoice
{
    public int Index { get; init; }
    public ChatDelta Delta { get; init; } = new();
    /// <summary>Written by the simulated upstream; a provider's are relayed as it wrote them, not read.</summary>
    public ChoiceLogprobs? Logprobs { get; init; }
    public string? FinishReason { get; init; }
}

/// <summary><c>logprobs</c> of a choice: one entry per token of its content.</summary>
public sealed record ChoiceLogprobs(IReadOnlyList<TokenLogprob> Content);

/// <summary>A token, its log probability, its UTF-8 bytes and, when asked, the likeliest alternatives.</summary>
public sealed record TokenLogprob(string Token, double Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<TopLogprob> TopLogprobs);

public sealed record TopLogprob(string Token, double Logprob, IReadOnlyList<int> Bytes);

public sealed record ChatDelta
{
    public string? Role { get; init; }
    public string? Content { get; init; }
    public string? ReasoningContent { get; init; }
    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
}

public sealed record ToolCallDelta
{
    public int Index { get; init; }
    public string? Id { get; init; }
    public string? Type { get; init; }
    public FunctionCallDelta? Function { get; init; }
}

public sealed record FunctionCallDelta
{
    public string? Name { get; init; }
    public string? Arguments { get; init; }
}

public sealed record ChatUsage
{
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public int TotalTokens { get; init; }
    public PromptTokensDetails? PromptTokensDetails { get; init; }
    public CompletionTokensDetails? CompletionTokensDetails { get; init; }

    /// <summary>What Portal charged for the request, in USD. Set by Portal, never taken from an upstream.</summary>
    public decimal? Cost { get; init; }
}

public sealed record PromptTokensDetails
{
    public int CachedTokens { get; init; }
}

public sealed record CompletionTokensDetails
{
    public int ReasoningTokens { get; init; }
}

/// <summary>A non-streaming reply, assembled from the chunks.</summary>
public sealed record ChatCompletion
{
    public required string Id { get; init; }
    public string Object { get; init; } = "chat.completion";
    public required long Created { get; init; }
    public required string Model { get; init; }
    /// <summary>The client's <c>request_id</c>, echoed.</summary>
    public string? RequestId { get; init; }
    public required IReadOnlyList<CompletionChoice> Choices { get; init; }
    public ChatUsage? Usage { get; init; }
}

public sealed record CompletionChoice
{
    public int Index { get; init; }
    public required AssistantMessage Message { get; init; }
    public ChoiceLogprobs? Logprobs { get; init; }
    public string? FinishReason { get; init; }
}

public sealed record AssistantMessage
{
    public string Role { get; init; } = "assistant";
    public string? Content { get; init; }
    public string? ReasoningContent { get; init; }
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
}

public sealed record ToolCall
{
    public required string Id { get; init; }
    public string Type { get; init; } = "function";
    public required FunctionCall Function { get; init; }
}

public sealed record FunctionCall
{
    public required string Name { get; init; }
    public required string Arguments { get; init; }
}

public static class Wire
{
    /// <summary>snake_case, nulls left out: the OpenAI wire format.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Responses are application/json or SSE, never HTML: quotes and non-ASCII stay readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

// ---- The validated request ------------------------------------------------------------------

/// <summary>A chat request after validation: the typed fields Portal acts on, plus the original JSON
/// (unknown fields included) for upstreams that take it as is.</summary>
public sealed record ChatRequest
{
    public required JsonObject Raw { get; init; }
    /// <summary>The UTF-8 size of <see cref="Raw"/> as the client sent it (measured once when built in code).</summary>
    public long BodyBytes { get; init; }
    /// <summary>The media parts of the messages, which the hold bounds per part rather than per byte (ADR 13).</summary>
    public PromptMedia Media { get; init; }
    /// <summary>The model id or alias as the client wrote it.</summary>
    public required string Model { get; init; }
    public required IReadOnlyList<ChatMessage> Messages { get; init; }
    /// <summary>Effective max output tokens: the client's value (or the default) capped at the model's maximum.</summary>
    public required int MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public long? Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public int N { get; init; } = 1;
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public bool Logprobs { get; init; }
    /// <summary>How many alternatives <c>logprobs</c> lists per token (0–20).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>Function tools offered (other tool types are passed through but not simulated).</summary>
    public IReadOnlyList<FunctionTool> Tools { get; init; } = [];
    public ToolChoice ToolChoice { get; init; } = ToolChoice.Auto;
    /// <summary>Set when <see cref="ToolChoice"/> names one function.</summary>
    public string? ToolChoiceName { get; init; }
    public bool JsonMode { get; init; }
    /// <summary><c>response_format</c> of type <c>json_schema</c>: the reply must be JSON that satisfies it (ADR 22).</summary>
    public ResponseSchema? ResponseSchema { get; init; }
    /// <summary>True/false when <c>thinking</c> was given; null leaves it to the model.</summary>
    public bool? Thinking { get; init; }
    public string? ReasoningEffort { get; init; }
    public string? User { get; init; }
    /// <summary>The client's <c>request_id</c>: echoed in the reply, not sent to the provider.</summary>
    public string? RequestId { get; init; }
    /// <summary>The Messages request as sent, for an upstream with a Messages endpoint (ADR 35); null otherwise.</summary>
    public Messages.NativeMessages? Native { get; init; }
}

public sealed record ChatMessage(string Role, string Text, string? ToolCallId = null, bool HasToolCalls = false);

/// <summary>
/// How many image, file, audio and video parts the messages hold, and the bytes of their payloads (a
/// URL or base64 data) within the body: providers bill such a part per image, page or second, not per byte.
/// </summary>
public readonly record struct PromptMedia(int Images, int Files, int Audio, int Video, long PayloadBytes);

public sealed record FunctionTool(string Name, string? Description, JsonObject? Parameters);

/// <summary><c>response_format.json_schema</c>: <see cref="Schema"/> null when the client sent none (any JSON object).</summary>
public sealed record ResponseSchema(string Name, JsonObject? Schema, bool Strict);

public enum ToolChoice
{
    Auto,
    None,
    Required,
    Named,
}
