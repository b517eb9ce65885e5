namespace Portal.Catalog;

/// <summary>An immutable snapshot of a catalog model and its upstreams, as the gateway uses it.</summary>
public sealed record ModelInfo
{
    public required string Id { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public required string OwnedBy { get; init; }
    public bool SupportsTools { get; init; }
    public bool SupportsJsonMode { get; init; }
    public bool SupportsStructuredOutputs { get; init; }
    public bool SupportsReasoning { get; init; }
    public bool AlwaysReasons { get; init; }
    public int MaxOutputTokens { get; init; }
    public int ContextLength { get; init; }
    public long InputPriceMicros { get; init; }
    public long OutputPriceMicros { get; init; }
    /// <summary>As the catalog has it: null when cached prompt tokens cost the input price.</summary>
    public long? CachedInputPriceMicros { get; init; }
    /// <summary>What a cached prompt token is billed at (ADR 25).</summary>
    public long EffectiveCachedInputPriceMicros => CachedInputPriceMicros ?? InputPriceMicros;
    public int ImagePartTokens { get; init; } = MediaDefaults.ImagePartTokens;
    public int FilePartTokens { get; init; } = MediaDefaults.OtherPartTokens;
    public int AudioPartTokens { get; init; } = MediaDefaults.OtherPartTokens;
    public int VideoPartTokens { get; init; } = MediaDefaults.OtherPartTokens;
    /// <summary>The default tokens-per-minute limit of a key on this model; null = none (ADR 33).</summary>
    public int? TokensPerMinute { get; init; }
    public bool Enabled { get; init; } = true;
    public long Created { get; init; }
    public IReadOnlyList<UpstreamInfo> Upstreams { get; init; } = [];

    /// <summary>No real provider is configured: the built-in simulated upstream answers.</summary>
    public bool IsSimulated => Upstreams.Count == 0;

    public static ModelInfo From(CatalogModel m) => new()
    {
        Id = m.Id,
        Aliases = m.Aliases.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        OwnedBy = m.OwnedBy,
        SupportsTools = m.SupportsTools,
        SupportsJsonMode = m.SupportsJsonMode,
        SupportsStructuredOutputs = m.SupportsStructuredOutputs,
        SupportsReasoning = m.SupportsReasoning,
        AlwaysReasons = m.AlwaysReasons,
        MaxOutputTokens = m.MaxOutputTokens,
        ContextLength = m.ContextLength,
        InputPriceMicros = m.InputPriceMicros,
        OutputPriceMicros = m.OutputPriceMicros,
        CachedInputPriceMicros = m.CachedInputPriceMicros,
        ImagePartTokens = m.ImagePartTokens,
        FilePartTokens = m.FilePartTokens,
        AudioPartTokens = m.AudioPartTokens,
        VideoPartTokens = m.VideoPartTokens,
        TokensPerMinute = m.TokensPerMinute,
        Enabled = m.Enabled,
        Created = new DateTimeOffset(DateTime.SpecifyKind(m.CreatedAt, DateTimeKind.Utc)).ToUnixTimeSeconds(),
        Upstreams = m.Upstreams.Where(u => u.Enabled).OrderBy(u => u.Priority).ThenBy(u => u.Id)
            .Select(u => new UpstreamInfo(u.Id, u.BaseUrl, u.UpstreamModel, u.ProtectedApiKey, TimeSpan.FromSeconds(u.TimeoutSeconds), u.MessagesBaseUrl))
            .ToList(),
    };
}

/// <param name="MessagesBaseUrl">Where the provider speaks Anthropic's Messages API, if it does: Messages
/// requests go there as sent; null translates them onto chat completions at <paramref name="BaseUrl"/>.</param>
public sealed record UpstreamInfo(int Id, string BaseUrl, string UpstreamModel, string? ProtectedApiKey, TimeSpan Timeout, string? MessagesBaseUrl = null);
