using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Account;
using Portal.Catalog;

namespace Portal.Usage;

public static class UsageEndpoints
{
    public const string CsvPath = "/dashboard/requests.csv";

    /// <summary>Rows written between flushes: the client sees the file grow, the server holds one batch.</summary>
    private const int FlushEvery = 500;

    public static IHostApplicationBuilder AddUsage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UsageQueries>();
        return builder;
    }

    public static IEndpointRouteBuilder MapUsage(this IEndpointRouteBuilder endpoints)
    {
        // The signed-in user's cookie, like the dashboard itself; the filters are the dashboard's.
        endpoints.MapGet(CsvPath, ExportAsync).RequireAuthorization();
        return endpoints;
    }

    /// <summary>The dashboard's filters, as query-string values (checked by <see cref="RequestFilter.Parse"/>).</summary>
    public sealed record ExportQuery(string? Model, string? Key, string? Status, string? From, string? To, string? User);

    private static async Task<Results<EmptyHttpResult, ContentHttpResult, ForbidHttpResult>> ExportAsync(
        HttpContext http, [AsParameters] ExportQuery query, UsageQueries usage, ModelCatalog catalog, CurrentUser currentUser)
    {
        // Whose requests: the cookie's user, never a parameter.
        if (currentUser.IdOf(http.User) is not { } userId)
        {
            return TypedResults.Forbid();
        }

        return await WriteCsvAsync(http, userId, query, usage, catalog, "portal-requests.csv");
    }

    /// <summary>
    /// Writes the requests of <paramref name="accountId"/> (a user's or an organization's, checked by the
    /// caller) matching the dashboard's filters as CSV, streamed; 400 with the reasons when a filter will not do.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ContentHttpResult, ForbidHttpResult>> WriteCsvAsync(
        HttpContext http, string accountId, ExportQuery query, UsageQueries usage, ModelCatalog catalog, string fileName)
    {
        var models = (await catalog.AllAsync(http.RequestAborted)).Select(m => m.Id).ToList();
        var keys = (await usage.KeysAsync(accountId, http.RequestAborted)).Select(k => k.Id).ToList();
        var (filter, errors) = RequestFilter.Parse(query.Model, query.Key, query.Status, query.From, query.To, models, keys, query.User);
        if (errors.Count > 0)
        {
            return TypedResults.Text(string.Join(" ", errors.Select(e => e.Message)), "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        http.Response.Headers.CacheControl = "no-store";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await writer.WriteAsync(RequestsCsv.Header);
        var written = 0;
        await foreach (var row in usage.StreamRequestsAsync(accountId, filter, http.RequestAborted))
        {
            await writer.WriteAsync(RequestsCsv.Line(row));
            if (++written % FlushEvery == 0)
            {
                await writer.FlushAsync(http.RequestAborted);
            }
        }

        await writer.FlushAsync(http.RequestAborted);
        return TypedResults.Empty;
    }
}
