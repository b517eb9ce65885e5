using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.Account;

/// <summary>
/// Whether an account may create keys and spend (<see cref="AccountOptions.RequireConfirmedEmail"/>):
/// asked by the keys page, the playground and, through the key's owner, the API.
/// </summary>
public sealed class EmailVerification(IDbContextFactory<PortalDbContext> dbFactory, IOptions<AccountOptions> options)
{
    public const string Explanation = "Verify your email address first: follow the link we mailed you when you signed up, or send a new one from your profile.";

    public bool Required => options.Value.RequireConfirmedEmail;

    public async Task<bool> MaySpendAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (!Required)
        {
            return true;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.EmailConfirmed).FirstOrDefaultAsync(cancellationToken);
    }
}
