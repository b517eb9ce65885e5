using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Usage;

/// <summary>
/// <c>GET /api/v1/usage</c>: the dashboard's request list for programs, so a customer can reconcile
/// what they were charged. The calling key's account, all of its keys and the playground, as the
/// dashboard shows it; the same filters, newest first, paged by a cursor (<c>after</c>).
/// </summary>
public static class UsageApi
{
    public const int DefaultLimit = 20;

    /// <summary>The query string, all text: a bad value gets an error naming it, not a binding failure.</summary>
    public sealed record UsageQuery(
        [property: Description("A model id: only its requests.")] string? Model,
        [property: Description("An API key id of the account, or \"playground\".")] string? Key,
        [property: Description("\"ok\" or \"error\".")] string? Status,
        [property: Description("The first UTC day, like 2026-11-22.")] string? From,
        [property: Description("The last UTC day, inclusive.")] string? To,
        [property: Description("An end-user id, as sent in a request's 'user' (or 'user_id'): only those requests.")] string? User,
        [property: Description("How many requests, 1 to 100 (20 unless given).")] string? Limit,
        [property: Description("A request id from an earlier page (its last_id): the requests older than it.")] string? After);

    public static async Task<Results<JsonHttpResult<UsageList>, ApiErrorResult>> ListAsync(
        [AsParameters] UsageQuery query, CurrentApiKey current, UsageQueries usage, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var userId = current.Key.AccountId; // an organization key lists its organization's requests
        var limit = DefaultLimit;
        if (query.Limit is { } text && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > UsageQueries.MaxPageSize))
        {
            return ApiError.InvalidRequest($"'limit' must be a whole number from 1 to {UsageQueries.MaxPageSize}.", "limit").ToResult();
        }

        var models = (await catalog.AllAsync(cancellationToken)).Select(m => m.Id).ToList();
        var keys = (await usage.KeysAsync(userId, cancellationToken)).Select(k => k.Id).ToList();
        var (filter, errors) = RequestFilter.Parse(query.Model, query.Key, query.Status, query.From, query.To, models, keys, query.User);
        if (errors.Count > 0)
        {
            return ApiError.InvalidRequest(errors[0].Message, errors[0].Param).ToResult();
        }

        var after = string.IsNullOrWhiteSpace(query.After) ? null : query.After.Trim();
        if (await usage.RequestsAfterAsync(userId, filter, after, limit, cancellationToken) is not { } slice)
        {
            return ApiError.InvalidRequest("'after' must be the id of one of this account's requests, as an earlier page's last_id.", "after").ToResult();
        }

        var data = slice.Rows.Select(UsageRequest.From).ToList();
        return TypedResults.Json(new UsageList { Data = data, FirstId = data.FirstOrDefault()?.Id, LastId = data.LastOrDefault()?.Id, HasMore = slice.HasMore }, Wire.Json);
    }
}

/// <summary><c>GET /api/v1/usage</c>: a page of requests, newest first.</summary>
public sealed record UsageList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<UsageRequest> Data { get; init; }

    [Description("The first request's id; absent when the page is empty.")]
    public string? FirstId { get; init; }

    [Description("The last request's id: pass it as 'after' for the next page. Absent when the page is empty.")]
    public string? LastId { get; init; }

    [Description("Whether older matching requests follow.")]
    public required bool HasMore { get; init; }
}

/// <summary>One request as the dashboard and its CSV show it.</summary>
public sealed record UsageRequest(
    [property: Description("The request id (the x-request-id header of its reply).")] string Id,
    [property: Description("Always \"usage.request\".")] string Object,
    [property: Description("When it was made, in Unix seconds.")] long Created,
    string Model,
    [property: Description("\"api\" or \"playground\".")] string Source,
    [property: Description("The key it was made with; absent for the playground.")] string? ApiKeyId,
    [property: Description("That key's name; absent for the playground or a deleted key.")] string? ApiKeyName,
    int PromptTokens,
    int CompletionTokens,
    int ReasoningTokens,
    [property: Description("What it cost, in US dollars.")] decimal Cost,
    int LatencyMs,
    [property: Description("Absent when no token was streamed.")] int? TimeToFirstTokenMs,
    [property: Description("The HTTP status it was answered with.")] int Status,
    [property: Description("The error code, when it failed.")] string? ErrorCode,
    [property: Description("Where the token counts came from: \"reported\" by the provider, \"estimated\", or \"partial\".")] string Provenance,
    bool Stream,
    [property: Description("How many requests this row stands for: more than 1 for alike refusals recorded together.")] int Requests,
    [property: Description("The prompt tokens the provider served from its cache (part of prompt_tokens), billed at prices.cached_input.")] int CachedTokens,
    [property: Description("The prices it was charged at, in US dollars per 1M tokens.")] RequestPrices Prices,
    [property: Description("The end-user id the request sent in 'user' (or 'user_id'); absent when it sent none.")] string? User,
    [property: Description("The API it came in through: \"chat/completions\", \"messages\" or \"responses\" (its route under /api/v1).")] string Api)
{
    public static UsageRequest From(RequestRow row) => new(
        row.RequestId, "usage.request", new DateTimeOffset(DateTime.SpecifyKind(row.At, DateTimeKind.Utc)).ToUnixTimeSeconds(),
        row.ModelId, row.ApiKeyId is null ? "playground" : "api", row.ApiKeyId, row.KeyName,
        row.PromptTokens, row.CompletionTokens, row.ReasoningTokens, Money.ToUsd(row.CostMicros),
        row.LatencyMs, row.TimeToFirstTokenMs, row.Status, row.ErrorCode, row.Provenance, row.Stream, row.Requests,
        row.CachedTokens, new RequestPrices(Money.ToUsd(row.InputPriceMicros), Money.ToUsd(row.CachedInputPriceMicros), Money.ToUsd(row.OutputPriceMicros)), row.EndUser, row.Api);
}

/// <summary>The prices a request was charged at, in US dollars per 1M tokens: cost = (prompt − cached) × input + cached × cached_input + completion × output.</summary>
public sealed record RequestPrices(decimal Input, decimal CachedInput, decimal Output);
