using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Portal.Account;

/// <summary>
/// With <c>Accounts:RequireTwoFactorForAdmins</c> on, an admin page opens only for an admin whose
/// account has two-factor sign-in turned on — read from the store, not the cookie, so turning it off
/// counts at once (ADR 27). Part of <see cref="AdminPolicy.Name"/>; the admin command line never
/// passes through it.
/// </summary>
public sealed class AdminTwoFactorRequirement : IAuthorizationRequirement;

internal sealed class AdminTwoFactorHandler(UserManager<PortalUser> users, IOptions<AccountOptions> options)
    : AuthorizationHandler<AdminTwoFactorRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminTwoFactorRequirement requirement)
    {
        if (!options.Value.RequireTwoFactorForAdmins
            || (await users.GetUserAsync(context.User) is { } user && await users.GetTwoFactorEnabledAsync(user)))
        {
            context.Succeed(requirement);
        }
    }
}
