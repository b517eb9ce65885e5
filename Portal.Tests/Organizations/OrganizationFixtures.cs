using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Data;
using Portal.Organizations;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.Organizations;

/// <summary>An organization with its owner, ready for members and keys.</summary>
public sealed record TestOrganization(string Id, string OwnerId);

public static class OrganizationFixtures
{
    public static OrganizationService Organizations(this PortalApplication app) => app.Services.GetRequiredService<OrganizationService>();

    public static AuditActor ActorFor(string userId) => new(userId, userId);

    /// <summary>A new user who makes an organization, which an admin grants <paramref name="credits"/> through the admin service.</summary>
    public static async Task<TestOrganization> CreateOrganizationAsync(this PortalApplication app, string name = "Acme", decimal credits = 0m)
    {
        var owner = await app.CreateUserAsync($"owner-{Guid.NewGuid():N}@example.test", AdminTestHelpers.Password);
        var (organization, problem) = await app.Organizations().CreateAsync(ActorFor(owner.Id), name);
        Assert.Null(problem);
        if (credits != 0)
        {
            var admin = await app.CreateUserAsync($"admin-{Guid.NewGuid():N}@example.test", AdminTestHelpers.Password, admin: true);
            var result = await app.Service<UserAdmin>().AdjustCreditsAsync(await app.GuardFor(admin.Id).RequireAdminAsync(), organization!.Id,
                new CreditAdjustment { Amount = credits.ToString(System.Globalization.CultureInfo.InvariantCulture), Reason = "team credits" });
            Assert.True(result.Succeeded, result.Problem);
        }

        return new TestOrganization(organization!.Id, owner.Id);
    }

    /// <summary>
    /// A new user made a member straight in the store (the invitation flow is its own test), with an
    /// organization key of their own.
    /// </summary>
    public static async Task<ApiAccount> AddMemberWithKeyAsync(this PortalApplication app, TestOrganization organization,
        OrganizationRole role = OrganizationRole.Member, NewApiKey? key = null)
    {
        var user = await app.CreateUserAsync($"member-{Guid.NewGuid():N}@example.test", AdminTestHelpers.Password);
        await app.InStoreAsync(async db =>
        {
            db.OrganizationMembers.Add(new OrganizationMember { OrganizationId = organization.Id, UserId = user.Id, Role = role, JoinedAt = app.Time.GetUtcNow().UtcDateTime });
            return await db.SaveChangesAsync();
        });
        var created = await app.Organizations().CreateKeyAsync(ActorFor(user.Id), organization.Id, key ?? new NewApiKey("team key"));
        Assert.NotNull(created);
        return new ApiAccount(user.Id, created.Value.Key.Id, created.Value.Plaintext);
    }
}
