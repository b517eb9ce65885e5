using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Catalog;

/// <summary>A model clients can ask for. Prices are micro-dollars per 1M tokens (ADR 3).</summary>
public sealed class CatalogModel
{
    public required string Id { get; set; }
    /// <summary>Other names clients may use, comma-separated (e.g. <c>zhipu/glm-5</c>).</summary>
    public string Aliases { get; set; } = "";
    public required string OwnedBy { get; set; }
    public bool SupportsTools { get; set; }
    public bool SupportsJsonMode { get; set; }
    /// <summary>The provider honours <c>response_format</c> of type <c>json_schema</c> (structured outputs, ADR 22).</summary>
    public bool SupportsStructuredOutputs { get; set; }
    /// <summary>The model can return reasoning (<c>thinking</c>, <c>reasoning_effort</c> accepted).</summary>
    public bool SupportsReasoning { get; set; }
    /// <summary>The model always reasons (e.g. deepseek-r1), whatever the request says.</summary>
    public bool AlwaysReasons { get; set; }
    public int MaxOutputTokens { get; set; }
    public int ContextLength { get; set; }
    public long InputPriceMicros { get; set; }
    public long OutputPriceMicros { get; set; }
    /// <summary>
    /// The price of prompt tokens the provider served from its cache (<c>prompt_tokens_details.cached_tokens</c>);
    /// null: they cost the input price, as before there was one. Never above the input price (ADR 25).
    /// </summary>
    public long? CachedInputPriceMicros { get; set; }
    // The hold's bound for a media part (ADR 13): providers bill an image, a file, audio or video by
    // its size, pages or length, not by the bytes of its URL or base64, so each part counts this many
    // prompt tokens instead of those bytes.
    public int ImagePartTokens { get; set; } = MediaDefaults.ImagePartTokens;
    public int FilePartTokens { get; set; } = MediaDefaults.OtherPartTokens;
    public int AudioPartTokens { get; set; } = MediaDefaults.OtherPartTokens;
    public int VideoPartTokens { get; set; } = MediaDefaults.OtherPartTokens;
    /// <summary>Tokens per minute a key may use on this model unless the key sets its own; null = no limit (ADR 33).</summary>
    public int? TokensPerMinute { get; set; }
    public bool Enabled { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public List<ModelUpstream> Upstreams { get; set; } = [];
}

/// <summary>The per-part bounds a model starts with; ADR 13 says where they come from.</summary>
public static class MediaDefaults
{
    /// <summary>Above every per-image count OpenAI documents for its vision models except gpt-4o-mini's price-scaled one.</summary>
    public const int ImagePartTokens = 4_096;
    /// <summary>Files, audio and video grow with pages and seconds; no provider documents a ceiling per part.</summary>
    public const int OtherPartTokens = 100_000;
}

/// <summary>An OpenAI-compatible provider serving a model. None enabled: the simulated upstream serves it.</summary>
public sealed class ModelUpstream
{
    public int Id { get; set; }
    public required string ModelId { get; set; }
    public required string BaseUrl { get; set; }
    public required string UpstreamModel { get; set; }
    /// <summary>
    /// The provider's Anthropic Messages base (Portal calls {base}/v1/messages), for Messages requests to be
    /// forwarded as sent rather than translated onto chat completions; null translates (ADR 35).
    /// </summary>
    public string? MessagesBaseUrl { get; set; }
    /// <summary>The provider's API key, encrypted with Data Protection; never shown or logged.</summary>
    public string? ProtectedApiKey { get; set; }
    /// <summary>Lower is tried first.</summary>
    public int Priority { get; set; }
    public int TimeoutSeconds { get; set; } = 120;
    public bool Enabled { get; set; } = true;
}

internal sealed class CatalogModelConfiguration : IEntityTypeConfiguration<CatalogModel>
{
    private static readonly DateTime Seeded = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public void Configure(EntityTypeBuilder<CatalogModel> builder)
    {
        builder.ToTable("Models");
        builder.Property(m => m.Id).HasMaxLength(128);
        builder.Property(m => m.Aliases).HasMaxLength(1024);
        builder.Property(m => m.OwnedBy).HasMaxLength(128);
        builder.HasMany(m => m.Upstreams).WithOne().HasForeignKey(u => u.ModelId).OnDelete(DeleteBehavior.Cascade);

        // The catalog a fresh install starts with (simulated until an upstream is added); admins edit it afterwards.
        builder.HasData(
            Seed("glm-5.2", "zhipu/glm-5.2", "zhipu", tools: true, reasoning: true, always: false, input: 2.50m, output: 7.50m, context: 200_000),
            Seed("glm-5", "zhipu/glm-5", "zhipu", tools: true, reasoning: true, always: false, input: 1.50m, output: 5.00m, context: 200_000),
            Seed("kimi-k2", "moonshotai/kimi-k2", "moonshotai", tools: true, reasoning: false, always: false, input: 1.50m, output: 6.00m, context: 128_000),
            // DeepSeek's API takes json_object but not json_schema.
            Seed("deepseek-r1", "deepseek/deepseek-r1", "deepseek", tools: false, reasoning: true, always: true, input: 1.75m, output: 6.50m, context: 128_000, schemas: false));
    }

    private static CatalogModel Seed(string id, string alias, string owner, bool tools, bool reasoning, bool always,
        decimal input, decimal output, int context, bool schemas = true) => new()
        {
            Id = id,
            Aliases = alias,
            OwnedBy = owner,
            SupportsTools = tools,
            SupportsJsonMode = true,
            SupportsStructuredOutputs = schemas,
            SupportsReasoning = reasoning,
            AlwaysReasons = always,
            MaxOutputTokens = 8192,
            ContextLength = context,
            InputPriceMicros = Money.FromUsd(input),
            OutputPriceMicros = Money.FromUsd(output),
            Enabled = true,
            CreatedAt = Seeded,
        };
}

internal sealed class ModelUpstreamConfiguration : IEntityTypeConfiguration<ModelUpstream>
{
    public void Configure(EntityTypeBuilder<ModelUpstream> builder)
    {
        builder.ToTable("ModelUpstreams");
        builder.Property(u => u.ModelId).HasMaxLength(128);
        builder.Property(u => u.BaseUrl).HasMaxLength(2048);
        builder.Property(u => u.MessagesBaseUrl).HasMaxLength(2048);
        builder.Property(u => u.UpstreamModel).HasMaxLength(256);
    }
}
