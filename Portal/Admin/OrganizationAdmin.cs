using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Admin;

public sealed record OrganizationRow(string Id, string Name, int Members, long BalanceMicros, DateTime CreatedAt);

/// <summary>
/// The organizations, for admins: each with its members and balance. Their credits are granted and
/// deducted through <see cref="UserAdmin.AdjustCreditsAsync"/>, which takes any account (ADR 34).
/// </summary>
public sealed class OrganizationAdmin(IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <summary>Organizations whose name contains <paramref name="search"/>, by name, one page of at most 100.</summary>
    public async Task<(IReadOnlyList<OrganizationRow> Rows, int Total)> SearchAsync(AdminCaller caller, string? search, int skip, int take,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var organizations = db.Organizations.AsQueryable();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var text = search.Trim();
            organizations = organizations.Where(o => o.Name.Contains(text));
        }

        var total = await organizations.CountAsync(cancellationToken);
        var rows = await organizations.OrderBy(o => o.Name).ThenBy(o => o.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 100))
            .Select(o => new OrganizationRow(
                o.Id,
                o.Name,
                db.OrganizationMembers.Count(m => m.OrganizationId == o.Id),
                db.CreditBalances.Where(b => b.UserId == o.Id).Select(b => b.BalanceMicros).FirstOrDefault(),
                o.CreatedAt))
            .ToListAsync(cancellationToken);
        return (rows, total);
    }
}
