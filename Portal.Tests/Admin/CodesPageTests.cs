using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Codes;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

/// <summary>The admin page of redemption codes: a batch is made, downloaded once, listed without its codes, revoked.</summary>
public sealed class CodesPageTests : AdminComponentTestBase
{
    [Fact]
    public async Task ABatchIsDownloadedOnceAsCsvOfExactlyItsCodesThenOnlyListed()
    {
        var admin = await SignInAsAdminAsync();
        var download = JSInterop.SetupVoid("portal.download", _ => true);
        var page = Render<CodesPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=codes-empty]"), Wait);

        page.Find("#codes-value").Change("5");
        page.Find("#codes-count").Change("3");
        page.Find("#codes-expiry").Change("90");
        page.Find("#codes-note").Change("Meetup Lisbon");
        page.Find("[data-testid=codes-form]").Submit();

        page.WaitForAssertion(() => page.Find("[data-testid=codes-ready]"), Wait);
        Assert.Contains("Made 3 codes worth $5.00 each", page.Find("[data-testid=codes-done]").TextContent);
        page.Find("[data-testid=codes-download]").Click();

        var call = Assert.Single(download.Invocations);
        var csv = (string)call.Arguments[1]!;
        var codes = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0]).ToList();
        var hashes = await App.InStoreAsync(db => db.RedemptionCodes.Select(c => c.Hash).ToListAsync());
        Assert.Equal(3, codes.Count);
        Assert.Equal(hashes.Order(), codes.Select(c => CodeFormat.HashOf(CodeFormat.Canonical(c)!)).Order());
        Assert.Matches(@"^portal-codes-batch-\d+\.csv$", (string)call.Arguments[0]!);

        // Gone from the page: no second download, and the list shows the batch without codes.
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=codes-ready]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=codes-download]"));
        page.WaitForAssertion(() => Assert.Contains("0 of 3", page.Find("table").TextContent), Wait);
        Assert.Contains("Meetup Lisbon", page.Find("table").TextContent);
        Assert.All(codes, c => Assert.DoesNotContain(c, page.Markup));
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.CodesGenerate));
        Assert.Equal(admin.Id, entry.ActorId);
    }

    [Fact]
    public async Task BadInputIsExplainedFieldByFieldAndMakesNothing()
    {
        await SignInAsAdminAsync();
        var page = Render<CodesPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=codes-empty]"), Wait);

        page.Find("#codes-value").Change("-5");
        page.Find("#codes-count").Change("100000");
        page.Find("#codes-expiry").Change("soon");
        page.Find("[data-testid=codes-form]").Submit();

        page.WaitForAssertion(() => Assert.Contains("from 0.01 to 10,000", page.Markup), Wait);
        Assert.Contains("a whole number from 1 to 1,000", page.Markup);
        Assert.Contains("the days the codes stay valid", page.Markup);
        Assert.Contains("Say what the codes are for", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=codes-ready]"));
        Assert.Equal(0, await App.InStoreAsync(db => db.RedemptionCodes.CountAsync()));
    }

    [Fact]
    public async Task ABatchIsRevokedAfterConfirmation()
    {
        await SignInAsAdminAsync();
        var (_, batch) = await App.Service<RedemptionCodes>().GenerateAsync(AdminCaller.Cli, new NewCodeBatch { Value = "1", Count = "2", Note = "Oops" });
        var page = Render<CodesPage>();
        page.WaitForAssertion(() => page.Find("button[aria-label='Revoke batch " + batch!.Batch.Id + "']"), Wait);

        page.Find("button[aria-label='Revoke batch " + batch!.Batch.Id + "']").Click();
        Answer("its 2 unredeemed codes stop working", "Revoke batch");

        page.WaitForAssertion(() => Assert.Contains("revoked", page.Find("table").TextContent), Wait);
        Assert.NotNull(await App.InStoreAsync(db => db.CodeBatches.Select(b => b.RevokedAt).SingleAsync()));
    }

    [Fact]
    public async Task ANonAdminSeesNoBatches()
    {
        await SignInAsNonAdminAsync();
        await App.Service<RedemptionCodes>().GenerateAsync(AdminCaller.Cli, new NewCodeBatch { Value = "1", Count = "1", Note = "secret note" });

        var page = Render<CodesPage>();

        page.WaitForAssertion(() => Assert.Contains(AdminComponentBase.DeniedMessage, page.Find("[role=alert]").TextContent), Wait);
        Assert.DoesNotContain("secret note", page.Markup);
    }
}
