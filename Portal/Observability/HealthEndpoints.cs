using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Observability;

/// <summary>
/// Probes for load balancers and orchestrators. <c>/healthz</c>: the process answers (restart it if
/// not). <c>/readyz</c>: it can serve — the store answers and its schema is current (send it no
/// traffic if not). Both are anonymous and say nothing beyond a short reason.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>A probe that hangs is as bad as one that fails: give the store this long to answer.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok"));
        endpoints.MapGet("/readyz", ReadyAsync);
        return endpoints;
    }

    private static async Task<IResult> ReadyAsync(IDbContextFactory<PortalDbContext> dbFactory, IHostApplicationLifetime lifetime, ILogger<PortalDbContext> logger, CancellationToken aborted)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return NotReady("not ready: shutting down"); // finishing running streams; send new work elsewhere
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(StoreTimeout);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(timeout.Token);
            if (!await db.Database.CanConnectAsync(timeout.Token))
            {
                return NotReady(StoreDown); // e.g. the PostgreSQL database is gone
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(timeout.Token)).ToList();
            return pending.Count == 0
                ? TypedResults.Text("ready")
                : NotReady($"not ready: {pending.Count} store migration(s) pending");
        }
        catch (Exception e) when (!aborted.IsCancellationRequested)
        {
            // The reason goes to the log; the probe's caller (maybe anyone) learns only the kind of failure.
            logger.LogWarning(e, "Readiness probe: the store did not answer");
            return NotReady(StoreDown);
        }
    }

    private const string StoreDown = "not ready: the store does not answer";

    private static IResult NotReady(string reason) =>
        TypedResults.Text(reason, statusCode: StatusCodes.Status503ServiceUnavailable);
}
