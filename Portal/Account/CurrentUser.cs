using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Portal.Account;

/// <summary>
/// Who is signed in, for pages (static or interactive), the admin guard and the browser endpoints.
/// The user's id is the claim Identity writes into its cookie (<see cref="ClaimsIdentityOptions.UserIdClaimType"/>),
/// read here and nowhere else; whose data a page shows comes from this, never from the address or a form.
/// </summary>
public sealed class CurrentUser(AuthenticationStateProvider authentication, IOptions<IdentityOptions> identity)
{
    /// <summary>The signed-in user's id; null for a visitor.</summary>
    public async Task<string?> GetIdAsync() => IdOf((await authentication.GetAuthenticationStateAsync()).User);

    /// <summary>The signed-in user as the audit log names them (id and email); null for a visitor.</summary>
    public async Task<Audit.AuditActor?> ActorAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return IdOf(user) is { } id ? new Audit.AuditActor(id, user.FindFirstValue(ClaimTypes.Email) ?? user.Identity?.Name ?? id) : null;
    }

    /// <summary>
    /// The user id in <paramref name="principal"/>'s claims, null unless it is signed in with one: for
    /// endpoints, which have the request's user but no authentication state provider.
    /// </summary>
    public string? IdOf(ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true
        && principal.FindFirstValue(identity.Value.ClaimsIdentity.UserIdClaimType) is { Length: > 0 } id
            ? id
            : null;
}
