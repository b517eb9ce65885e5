using System.ComponentModel;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Billing;

namespace Portal.Gateway;

// The replies of /api/v1's GET endpoints, written with Wire.Json (snake_case, nulls left out). They
// are named types, not anonymous ones, so that the OpenAPI document describes the very types that
// are serialized; property order is the wire order.

/// <summary><c>GET /api/v1/models</c>: the enabled models.</summary>
public sealed record ModelList
{
    // init, not get-only: the schema generator takes a get-only property for a nullable one.
    public string Object { get; init; } = "list";

    public required IEnumerable<ApiModel> Data { get; init; }
}

/// <summary>A model as <c>/api/v1/models</c> shows it: OpenAI's fields, then Portal's.</summary>
public sealed record ApiModel(
    [property: Description("The model id, as sent in a chat request's 'model'.")] string Id,
    [property: Description("Always \"model\".")] string Object,
    [property: Description("When the model was added, in Unix seconds.")] long Created,
    string OwnedBy,
    [property: Description("Other names the model answers to in 'model'.")] IReadOnlyList<string> Aliases,
    [property: Description("The largest prompt plus output, in tokens.")] int ContextLength,
    [property: Description("The largest 'max_tokens' honoured; larger values are capped to it.")] int MaxOutputTokens,
    bool SupportsTools,
    bool SupportsReasoning,
    bool SupportsJsonMode,
    [property: Description("True when 'response_format' may be of type 'json_schema' (structured outputs).")] bool SupportsStructuredOutputs,
    ModelPricing Pricing,
    [property: Description("True when Portal's built-in simulated upstream answers for this model.")] bool Simulated)
{
    public static ApiModel From(ModelInfo m) => new(
        m.Id, "model", m.Created, m.OwnedBy, m.Aliases, m.ContextLength, m.MaxOutputTokens,
        m.SupportsTools, m.SupportsReasoning, m.SupportsJsonMode, m.SupportsStructuredOutputs,
        new ModelPricing(Money.ToUsd(m.InputPriceMicros), Money.ToUsd(m.OutputPriceMicros), Money.ToUsd(m.EffectiveCachedInputPriceMicros)),
        m.IsSimulated);
}

/// <summary>A model's prices, in US dollars per million tokens.</summary>
/// <param name="CachedInput">What a prompt token the provider served from its cache costs (<c>usage.prompt_tokens_details.cached_tokens</c>); the input price unless the model has its own.</param>
public sealed record ModelPricing(decimal Input, decimal Output,
    [property: Description("The price of cached prompt tokens (usage.prompt_tokens_details.cached_tokens): the input price unless the model has a cheaper one.")] decimal CachedInput)
{
    public string Unit { get; init; } = "USD per 1M tokens";
}

/// <summary><c>GET /api/v1/credits</c>.</summary>
public sealed record CreditsReply(CreditsData Data);

/// <summary>The key owner's credits, in US dollars.</summary>
public sealed record CreditsData(
    [property: Description("What can be spent now: granted, less used, less on hold.")] decimal Balance,
    [property: Description("Reserved for requests in flight.")] decimal OnHold,
    decimal TotalGranted,
    decimal TotalUsed)
{
    public static CreditsData From(BalanceSummary summary) => new(
        Money.ToUsd(summary.BalanceMicros), Money.ToUsd(summary.OnHoldMicros),
        Money.ToUsd(summary.TotalGrantedMicros), Money.ToUsd(summary.TotalUsedMicros));
}

/// <summary><c>GET /api/v1/key</c>.</summary>
public sealed record KeyReply(KeyData Data);

/// <summary>The calling key.</summary>
public sealed record KeyData(
    string Name,
    [property: Description("The key's start and last four characters, as the keys page shows them.")] string Prefix,
    [property: Description("Unix seconds.")] long Created,
    [property: Description("Unix seconds; absent when the key was never used before this request.")] long? LastUsed,
    KeyRateLimit RateLimit,
    [property: Description("What the key has spent, in US dollars.")] decimal Usage,
    [property: Description("The key's spend cap in US dollars; absent when it has none.")] decimal? Limit,
    [property: Description("The models the key may call; absent when it may call every model.")] IReadOnlyList<string>? AllowedModels,
    [property: Description("The key's budget that resets; absent when it has none.")] KeyBudgetData? Budget = null,
    [property: Description("On an organization key, its member's budget that resets, shared by all their keys of the organization; absent when there is none.")] KeyBudgetData? MemberBudget = null)
{
    public static KeyData From(AuthenticatedKey key, KeyBudgetData? budget = null, KeyBudgetData? memberBudget = null) => new(
        key.Name,
        $"{key.Prefix}…{key.Last4}",
        UnixSeconds(key.CreatedAt),
        key.LastUsedAt is { } used ? UnixSeconds(used) : null,
        new KeyRateLimit(key.RequestsPerMinute, "1m", key.TokensPerMinute),
        Money.ToUsd(key.SpentMicros),
        key.SpendCapMicros is { } cap ? Money.ToUsd(cap) : null,
        key.AllowedModels.Count == 0 ? null : key.AllowedModels.Order().ToList(),
        budget,
        memberBudget);

    internal static long UnixSeconds(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeSeconds();
}

/// <summary>A key's budget that resets (ADR 29), as it stands now.</summary>
public sealed record KeyBudgetData(
    [property: Description("US dollars per period.")] decimal Amount,
    [property: Description("day, week (from Monday) or month, starting at midnight in time_zone.")] string Period,
    [property: Description("Spent in the current period, requests in flight included, in US dollars.")] decimal Spent,
    [property: Description("Unix seconds: when the current period ends and the whole budget is back.")] long ResetsAt,
    [property: Description("The IANA time zone the periods start in, such as Europe/Berlin; UTC when none was set.")] string TimeZone = "UTC")
{
    public static KeyBudgetData From(KeyBudget budget, long spentMicros, DateTime resetsAt) =>
        new(Money.ToUsd(budget.AmountMicros), budget.Period.ToString().ToLowerInvariant(), Money.ToUsd(spentMicros), KeyData.UnixSeconds(resetsAt), budget.ZoneName);
}

/// <summary>The key's limits: <c>requests</c> per <c>interval</c>, and its own <c>tokens</c> per minute on each model.</summary>
public sealed record KeyRateLimit(int Requests, string Interval,
    [property: Description("The key's own tokens-per-minute limit on each model; absent when each model's default applies (see x-ratelimit-limit-tokens).")] int? Tokens = null);
