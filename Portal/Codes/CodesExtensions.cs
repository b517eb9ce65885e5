using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Portal.Account;
using Portal.Audit;
using Portal.Organizations;
using Portal.Security;

namespace Portal.Codes;

public static class CodesExtensions
{
    /// <summary>Where the dashboard's "Redeem a code" form posts.</summary>
    public const string RedeemPath = "/dashboard/redeem";

    public static IHostApplicationBuilder AddCodes(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RedemptionCodes>();
        return builder;
    }

    /// <summary>
    /// The redeem form's endpoint: a plain form post (antiforgery checked by the framework), so the
    /// throttle counts the client's real address, then back to the dashboard with the outcome.
    /// </summary>
    public static IEndpointRouteBuilder MapCodes(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(RedeemPath, RedeemAsync).RequireAuthorization();
        return endpoints;
    }

    private static async Task<IResult> RedeemAsync(HttpContext http, [FromForm] string? code, [FromForm] string? organization, RedemptionCodes codes,
        AccountThrottle throttle, CurrentUser currentUser, OrganizationService organizations)
    {
        // Whose balance: the cookie's user, or an organization they are an admin or owner of — checked
        // in the store, never taken on the form's word.
        if (currentUser.IdOf(http.User) is not { } userId)
        {
            return Results.Forbid();
        }

        var account = userId;
        var dashboard = "/dashboard";
        if (!string.IsNullOrEmpty(organization))
        {
            var role = organization.Length <= 36 ? await organizations.RoleOfAsync(userId, organization, http.RequestAborted) : null;
            if (role is null)
            {
                return Results.NotFound();
            }

            if (role < OrganizationRole.Admin)
            {
                return Results.Redirect(DashboardUrl(new RedeemResult(RedeemOutcome.NotAllowed), OrganizationPaths.Dashboard(organization)), permanent: false, preserveMethod: false);
            }

            account = organization;
            dashboard = OrganizationPaths.Dashboard(organization);
        }

        var result = throttle.TryAttemptRedeem(http, userId)
            ? await codes.RedeemAsync(account, code, new AuditActor(userId, http.User.FindFirstValue(ClaimTypes.Email) ?? http.User.Identity?.Name ?? userId),
                ClientAddress.Of(http), http.RequestAborted)
            : new RedeemResult(RedeemOutcome.Throttled);
        return Results.Redirect(DashboardUrl(result, dashboard), permanent: false, preserveMethod: false);
    }

    /// <summary>The dashboard, told the outcome in its query string (<see cref="RedeemCard"/> reads it back).</summary>
    public static string DashboardUrl(RedeemResult result, string dashboard = "/dashboard")
    {
        var query = $"?redeem={result.Outcome.ToString().ToLowerInvariant()}";
        if (result.Succeeded)
        {
            query += "&amount=" + result.AmountMicros.ToString(CultureInfo.InvariantCulture);
        }
        else if (result.ExpiredAt is { } at)
        {
            query += "&expired=" + Uri.EscapeDataString(at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        }

        return dashboard + query + "#redeem";
    }

    /// <summary>Reads <see cref="DashboardUrl"/>'s query back; null when it says nothing (or nonsense).</summary>
    public static RedeemResult? ResultOf(string? outcome, long? amount, string? expired)
    {
        if (!Enum.TryParse<RedeemOutcome>(outcome, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(outcome, out _))
        {
            return null;
        }

        DateTime? at = DateTime.TryParse(expired, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        return new RedeemResult(parsed, Math.Max(0, amount ?? 0), at);
    }
}
