using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Alerts;
using MimeKit;
using Portal.Audit;
using Portal.Email;
using Portal.Organizations;
using Portal.Tests.Admin;
using Portal.Tests.Email;
using Portal.Tests.Gateway;
using Portal.Tests.Organizations;

namespace Portal.Tests.Alerts;

/// <summary>
/// An organization's low-balance alert (ADR 26 on the organization's row): set by its owners only,
/// audited; once the balance falls below it the sweep mails every owner once (not admins or members),
/// and a grant that lifts the balance back arms it again.
/// </summary>
public sealed class OrganizationLowBalanceTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private LowBalanceAlerts Alerts => _app.Services.GetRequiredService<LowBalanceAlerts>();

    private async Task AdjustAsync(string organizationId, string amount)
    {
        var admin = await _app.CreateUserAsync($"admin-{Guid.NewGuid():N}@example.test", AdminTestHelpers.Password, admin: true);
        var result = await _app.Service<UserAdmin>().AdjustCreditsAsync(await _app.GuardFor(admin.Id).RequireAdminAsync(), organizationId,
            new CreditAdjustment { Amount = amount.TrimStart('-'), Deduct = amount.StartsWith('-'), Reason = "test" });
        Assert.True(result.Succeeded, result.Problem);
    }

    [Fact]
    public async Task OnlyOwnersSetTheThresholdAndBadOnesChangeNothing()
    {
        var org = await _app.CreateOrganizationAsync(credits: 5m);
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var member = await _app.AddMemberWithKeyAsync(org);

        Assert.Equal(MemberChange.NotAllowed, await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(admin.UserId), org.Id, 1_000_000));
        Assert.Equal(MemberChange.NotAllowed, await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(member.UserId), org.Id, 1_000_000));
        Assert.False((await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, 0)).Done);
        Assert.False((await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, long.MaxValue)).Done);
        Assert.Null(await _app.InStoreAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.LowBalanceThresholdMicros).SingleAsync()));

        var set = await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, 4_000_000);
        Assert.True(set.Done, set.Message);
        Assert.Equal(4_000_000, await _app.InStoreAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.LowBalanceThresholdMicros).SingleAsync()));
        var entry = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.OrganizationLowBalanceAlert));
        Assert.Equal((OrganizationService.TargetOf(org.Id), org.OwnerId), (entry.Target, entry.ActorId));
    }

    [Fact]
    public async Task EveryOwnerIsMailedOncePerCrossingAndAGrantArmsItAgain()
    {
        var org = await _app.CreateOrganizationAsync(name: "Acme Labs", credits: 5m);
        var secondOwner = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Owner);
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        Assert.True((await Alerts.SetOrganizationThresholdAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, 4_000_000)).Done);
        Assert.Equal(0, await Alerts.CheckAsync());

        await AdjustAsync(org.Id, "-2");
        Assert.Equal(1, await Alerts.CheckAsync());
        Assert.Equal(0, await Alerts.CheckAsync());

        var mails = await _app.InStoreAsync(db => db.OutboxMessages.Where(m => m.Kind == LowBalanceAlerts.Kind).ToListAsync());
        Assert.Equal(new[] { org.OwnerId, secondOwner.UserId }.Order(), mails.Select(m => m.UserId!).Order());
        Assert.DoesNotContain(mails, m => m.UserId == admin.UserId);
        // As the owners receive them (the outbox may have sent them already, which empties the rows' bodies).
        await _app.SendMailAsync();
        var sent = Directory.GetFiles(Path.Combine(_app.DataFolder, EmlFolderTransport.FolderName), "*.eml").Select(f => MimeMessage.Load(f)).ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, m => Assert.Equal("Acme Labs's Portal balance is below $4.00", m.Subject));
        Assert.All(sent, m => Assert.Contains("has a Portal balance of $3.00", m.TextBody));

        // Back above the threshold arms it; falling below again mails again.
        await AdjustAsync(org.Id, "2");
        Assert.Null(await _app.InStoreAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.LowBalanceAlertedAt).SingleAsync()));
        await AdjustAsync(org.Id, "-1.5");
        Assert.Equal(1, await Alerts.CheckAsync());
        Assert.Equal(4, await _app.InStoreAsync(db => db.OutboxMessages.CountAsync(m => m.Kind == LowBalanceAlerts.Kind)));
    }
}
