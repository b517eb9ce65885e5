using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Billing;

namespace Portal.Account;

/// <summary>Creates accounts the same way for the sign-up page and the admin CLI.</summary>
public sealed class UserAccounts(UserManager<PortalUser> users, CreditsLedger ledger, TimeProvider time, IOptions<AccountOptions> options)
{
    /// <summary>
    /// An account the operator makes (the CLI): its address counts as verified, the operator vouching
    /// for it; self-service sign-ups verify theirs by mail (<paramref name="emailConfirmed"/> false).
    /// </summary>
    public async Task<(IdentityResult Result, PortalUser User)> CreateAsync(string email, string password, bool admin, bool emailConfirmed = true)
    {
        email = email.Trim();
        var user = new PortalUser { UserName = email, Email = email, EmailConfirmed = emailConfirmed, CreatedAt = time.GetUtcNow().UtcDateTime };
        var result = await users.CreateAsync(user, password);
        if (result.Succeeded && admin)
        {
            result = await users.AddToRoleAsync(user, Roles.Admin);
        }

        return (result, user);
    }

    /// <summary>A self-service sign-up; the very first account may become admin (see <see cref="AccountOptions"/>).</summary>
    public async Task<(IdentityResult Result, PortalUser User)> SignUpAsync(string email, string password)
    {
        var (result, user) = await CreateAsync(email, password, admin: false, emailConfirmed: false);
        if (result.Succeeded && options.Value.FirstUserBecomesAdmin && await users.Users.CountAsync() == 1)
        {
            result = await users.AddToRoleAsync(user, Roles.Admin);
        }

        if (result.Succeeded && options.Value.WelcomeCreditsUsd > 0)
        {
            await ledger.GrantAsync(user.Id, Money.FromUsd(options.Value.WelcomeCreditsUsd), "welcome credits", actorId: null);
        }

        return (result, user);
    }
}
