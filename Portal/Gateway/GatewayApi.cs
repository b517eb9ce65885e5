using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway.Messages;
using Portal.RateLimits;
using Portal.Status;

namespace Portal.Gateway;

/// <summary>The routes of <c>/api/v1</c>, the OpenAI-compatible API.</summary>
public static class GatewayApi
{
    public const string Prefix = "/api/v1";

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        // The Produces and WithApiErrors metadata only describes the endpoints (GatewayOpenApi): the
        // handlers write their replies themselves. 503 comes from the switch, 401 from the key, 429
        // from its rate limit or its account's refusals, 500 from UseGatewayErrors, so every operation has them.
        var api = endpoints.MapGroup(Prefix)
            .RequireApiSwitchOn()
            .RequireApiKey()
            .RequireRefusalAllowance()
            .RequireKeyRateLimit()
            .DisableAntiforgery()
            .WithApiErrors(401, 429, 500, 503);

        api.MapGet("/models", ListModelsAsync)
            .WithName("listModels").WithTags("Models").WithSummary("List the models you can call")
            .Produces<ModelList>();
        api.MapGet("/models/{**id}", GetModelAsync)
            .WithName("retrieveModel").WithTags("Models").WithSummary("Get one model by id or alias")
            .Produces<ApiModel>().WithApiErrors(404)
            .AddOpenApiOperationTransformer(GatewayOpenApi.DescribeModelIdAsync);
        api.MapGet("/credits", GetCreditsAsync)
            .WithName("getCredits").WithTags("Account").WithSummary("The key owner's credit balance")
            .Produces<CreditsReply>();
        api.MapGet("/key", GetKeyAsync)
            .WithName("getKey").WithTags("Account").WithSummary("The key you are calling with")
            .Produces<KeyReply>();
        api.MapGet("/usage", Usage.UsageApi.ListAsync)
            .WithName("listUsage").WithTags("Account").WithSummary("The account's requests, newest first, as the dashboard lists them")
            .Produces<Usage.UsageList>().WithApiErrors(400);
        // The server stops reading past the limit: a chunked body can't make Portal buffer more.
        api.MapPost("/chat/completions", ChatCompletions.HandleAsync).WithMetadata(new RequestSizeLimitAttribute(ChatBodyReader.MaxBodyBytes + 1))
            .WithName("createChatCompletion").WithTags("Chat").WithSummary("Generate a reply to a conversation, whole or streamed")
            .Produces<ChatCompletion>().WithApiErrors(400, 402, 403, 404, 408, 413, 415, 502, 504)
            .AddOpenApiOperationTransformer(GatewayOpenApi.DescribeChatCompletionsAsync);
        api.MapMessages(); // Anthropic's Messages API, translated onto chat completions (ADR 30)
        api.MapPost("/responses", Responses.ResponsesApi.HandleAsync).WithMetadata(new RequestSizeLimitAttribute(ChatBodyReader.MaxBodyBytes + 1))
            .WithName("createResponse").WithTags("Responses").WithSummary("Generate a response (the OpenAI Responses API), whole or streamed")
            .Produces(200).WithApiErrors(400, 402, 403, 404, 408, 413, 415, 502, 504)
            .AddOpenApiOperationTransformer(Responses.ResponsesOpenApi.DescribeAsync);
        api.MapGet("/responses/{id}", Responses.ResponsesApi.GetAsync)
            .WithName("getResponse").WithTags("Responses").WithSummary("A stored response, as it was sent")
            .Produces(200).WithApiErrors(404)
            .AddOpenApiOperationTransformer(Responses.ResponsesOpenApi.DescribeStoredAsync);
        api.MapDelete("/responses/{id}", Responses.ResponsesApi.DeleteAsync)
            .WithName("deleteResponse").WithTags("Responses").WithSummary("Delete a stored response")
            .Produces<Responses.ResponsesApi.DeletedResponse>().WithApiErrors(404);
        endpoints.MapGatewayOpenApi();

        return endpoints;
    }

    private static async Task<JsonHttpResult<ModelList>> ListModelsAsync(ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var models = await catalog.AllAsync(cancellationToken);
        return TypedResults.Json(new ModelList { Data = models.Where(m => m.Enabled).Select(ApiModel.From) }, Wire.Json);
    }

    private static async Task<Results<JsonHttpResult<ApiModel>, ApiErrorResult>> GetModelAsync(string id, ModelCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.FindAsync(id, cancellationToken) is { } model
            ? TypedResults.Json(ApiModel.From(model), Wire.Json)
            : ApiError.ModelNotFound(id).ToResult();

    private static async Task<JsonHttpResult<CreditsReply>> GetCreditsAsync(CurrentApiKey current, CreditsLedger ledger, CancellationToken cancellationToken)
    {
        var summary = await ledger.SummaryAsync(current.Key.AccountId, cancellationToken);
        return TypedResults.Json(new CreditsReply(CreditsData.From(summary)), Wire.Json);
    }

    private static async Task<JsonHttpResult<KeyReply>> GetKeyAsync(CurrentApiKey current, IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = current.Key;
        if (key.Budget is null && key.MemberBudget is null)
        {
            return TypedResults.Json(new KeyReply(KeyData.From(key)), Wire.Json);
        }

        // The periods' spend moves with every request, so it is read from the store, not the key as authenticated.
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        KeyBudgetData? keyBudget = null, memberBudget = null;
        if (key.Budget is { } budget)
        {
            var counted = await db.ApiKeys.Where(k => k.Id == key.KeyId)
                .Select(k => new { k.BudgetPeriodStart, k.BudgetSpentMicros }).SingleAsync(cancellationToken);
            keyBudget = KeyBudgetData.From(budget, budget.SpentAt(now, counted.BudgetPeriodStart, counted.BudgetSpentMicros), budget.ResetAfter(now));
        }

        if (key.MemberBudget is { } shared)
        {
            var counted = await db.OrganizationMembers.Where(m => m.OrganizationId == key.OrganizationId && m.UserId == key.UserId)
                .Select(m => new { m.BudgetPeriodStart, m.BudgetSpentMicros }).FirstOrDefaultAsync(cancellationToken);
            memberBudget = KeyBudgetData.From(shared, counted is null ? 0 : shared.SpentAt(now, counted.BudgetPeriodStart, counted.BudgetSpentMicros), shared.ResetAfter(now));
        }

        return TypedResults.Json(new KeyReply(KeyData.From(key, keyBudget, memberBudget)), Wire.Json);
    }
}
