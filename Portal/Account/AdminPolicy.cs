using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Portal.Account;

/// <summary>The admin pages' policy: the admin role, and a second factor when the setting asks for one.</summary>
public static class AdminPolicy
{
    public const string Name = "Admin";

    /// <summary>Where an admin without a second factor is sent: the page that turns one on.</summary>
    public const string SetUpPath = "/settings/security";

    internal static void Add(AuthorizationBuilder authorization) =>
        authorization.AddPolicy(Name, policy => policy.RequireRole(Roles.Admin).AddRequirements(new AdminTwoFactorRequirement()));
}

/// <summary>
/// Sends an admin who lacks only the second factor to set one up, instead of the access-denied page;
/// every other outcome is the framework's.
/// </summary>
internal sealed class AdminTwoFactorRedirect : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden
            && authorizeResult.AuthorizationFailure?.FailedRequirements is { } failed
            && failed.All(r => r is AdminTwoFactorRequirement))
        {
            context.Response.Redirect(AdminPolicy.SetUpPath);
            return Task.CompletedTask;
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
