using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.Organizations;

/// <summary>The admins' Organizations page grants an organization credits; the invitation's accept page joins its addressee only.</summary>
public sealed class OrganizationPagesTests : AdminComponentTestBase
{
    [Fact]
    public async Task AnAdminGrantsAnOrganizationCreditsAndSeesItsNewBalance()
    {
        var admin = await SignInAsAdminAsync();
        var org = await App.CreateOrganizationAsync("Acme");
        var page = Render<OrganizationsPage>();
        page.WaitForAssertion(() => Assert.Contains("Acme", page.Find("table").TextContent), Wait);

        page.Find("button[aria-label='Adjust credits of Acme']").Click();
        page.Find("#credit-amount").Change("3");
        page.Find("#credit-reason").Change("team pilot");
        page.Find("#credit-form-title").ParentElement!.QuerySelector("form")!.Submit();
        Answer("Give $3.00 to Acme, for \"team pilot\"?", "Grant $3.00");

        ExpectSnackbar("Granted $3.00 to Acme. Their balance is now $3.00.");
        Assert.Equal(Money.FromUsd(3m), await App.BalanceAsync(org.Id));
        var entry = await App.InStoreAsync(db => db.Ledger.SingleAsync());
        Assert.Equal((org.Id, admin.Id), (entry.UserId, entry.ActorId));
        var audit = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.CreditsGrant));
        Assert.Equal(OrganizationService.TargetOf(org.Id), audit.Target);
    }

    [Fact]
    public async Task ANonAdminSeesNoOrganizations()
    {
        await SignInAsNonAdminAsync();
        await App.CreateOrganizationAsync("Secret Co");

        var page = Render<OrganizationsPage>();

        page.WaitForAssertion(() => Assert.Contains(AdminComponentBase.DeniedMessage, page.Markup), Wait);
        Assert.DoesNotContain("Secret Co", page.Markup);
    }

    [Theory]
    [InlineData("ada@example.com", "You joined the organization.")]
    [InlineData("eve@example.com", "This invitation was sent to another email address.")]
    public async Task TheAcceptPageJoinsOnlyTheAddressee(string signedIn, string message)
    {
        var org = await App.CreateOrganizationAsync("Acme");
        var user = await App.CreateUserAsync(signedIn, AdminTestHelpers.Password);
        var token = await InviteAsync(org, "ada@example.com");
        SignInAs(user.Email!);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id), new Claim(ClaimTypes.Email, user.Email!));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"{OrganizationMembers.AcceptPath}?token={token}");

        var page = Render<AcceptInvitationPage>();
        page.Find("[data-testid=accept-invitation]").Click();

        page.WaitForAssertion(() => Assert.StartsWith(message, page.Find("[data-testid=accept-outcome]").TextContent), Wait);
        Assert.Equal(signedIn == "ada@example.com", await App.Organizations().RoleOfAsync(user.Id, org.Id) is not null);
    }

    private async Task<string> InviteAsync(TestOrganization org, string address)
    {
        Assert.True((await App.Service<OrganizationMembers>().InviteAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, address, OrganizationRole.Member, "http://localhost")).Done);
        await App.SendMailAsync();
        var file = Directory.GetFiles(Path.Combine(App.DataFolder, Portal.Email.EmlFolderTransport.FolderName), "*.eml").Single();
        var link = Portal.Tests.Email.SmtpTestServer.LinkIn(await MimeKit.MimeMessage.LoadAsync(file));
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)["token"].ToString();
    }
}
