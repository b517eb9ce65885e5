using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.Admin;
using Portal.Data;

namespace Portal.Tests.Admin;

/// <summary>Signs a service call in as someone, the way a circuit's authentication state does.</summary>
public sealed class FixedAuthenticationState(ClaimsPrincipal user) : AuthenticationStateProvider
{
    public static FixedAuthenticationState For(string? userId, params string[] roles)
    {
        if (userId is null)
        {
            return new(new ClaimsPrincipal(new ClaimsIdentity()));
        }

        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, userId), new(ClaimTypes.Name, userId) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new(new ClaimsPrincipal(new ClaimsIdentity(claims, "test")));
    }

    public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
}

public static class AdminTestHelpers
{
    public const string Password = "correct horse battery";

    /// <summary>An admin account in the store and the proof of it the admin services take.</summary>
    public static async Task<(string UserId, AdminCaller Caller)> CreateAdminCallerAsync(this PortalApplication app, string email = "root@example.test")
    {
        var admin = await app.CreateUserAsync(email, Password, admin: true);
        return (admin.Id, await app.GuardFor(admin.Id).RequireAdminAsync());
    }

    public static AdminGuard GuardFor(this PortalApplication app, string? userId, params string[] roles) =>
        new(new CurrentUser(FixedAuthenticationState.For(userId, roles), app.Service<IOptions<IdentityOptions>>()),
            app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>(), app.Service<IOptions<AccountOptions>>());

    public static T Service<T>(this PortalApplication app)
        where T : notnull => app.Services.GetRequiredService<T>();
}
