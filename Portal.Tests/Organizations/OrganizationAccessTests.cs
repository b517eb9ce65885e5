using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Audit;
using Portal.Billing;
using Portal.Codes;
using Portal.Organizations;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.Organizations;

/// <summary>
/// The organization pages and endpoints through a signed-in browser (issue 17, isolation first): a member of
/// organization A gets A's dashboard, keys, members, settings and CSV, and for B's the same 404 as for an
/// organization that does not exist; the CSV holds A's requests only; only admins and owners redeem into A.
/// </summary>
public sealed class OrganizationAccessTests : IDisposable
{
    private const string Body = """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":20}""";

    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AMemberOfOneOrganizationGetsNotFoundForAnothersPagesAndCsv()
    {
        var a = await _app.CreateOrganizationAsync("Alpha Team", credits: 2m);
        var b = await _app.CreateOrganizationAsync("Bravo Team", credits: 2m);
        var ada = await _app.AddMemberWithKeyAsync(a);
        var bob = await _app.AddMemberWithKeyAsync(b);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(ada.Key).PostChatAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(bob.Key).PostChatAsync(Body)).StatusCode);
        using var browser = await _app.SignedInBrowserAsync(await EmailOfAsync(ada.UserId), AdminTestHelpers.Password);

        foreach (var path in Pages(a.Id))
        {
            var page = await browser.GetPageAsync(path);
            Assert.Contains("Alpha Team", page);
            Assert.DoesNotContain("Bravo Team", page);
        }

        var csv = await (await browser.GetAsync(OrganizationPaths.Csv(a.Id))).Content.ReadAsStringAsync();
        var records = await _app.InStoreAsync(db => db.UsageRecords.ToListAsync());
        Assert.Contains(records.Single(r => r.UserId == a.Id).RequestId, csv);
        Assert.DoesNotContain(records.Single(r => r.UserId == b.Id).RequestId, csv);
        // The dashboard's filters: A's key filters A's requests; B's key is no filter of A's.
        Assert.Contains(records.Single(r => r.UserId == a.Id).RequestId,
            await (await browser.GetAsync(OrganizationPaths.Csv(a.Id) + "?key=" + ada.KeyId)).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(OrganizationPaths.Csv(a.Id) + "?key=" + bob.KeyId)).StatusCode);
        Assert.Contains("data-testid=\"filter-errors\"", await browser.GetPageAsync(OrganizationPaths.Dashboard(a.Id) + "?key=" + bob.KeyId));

        // B's, and one that does not exist: the same answer, naming nothing.
        foreach (var org in new[] { b.Id, Guid.NewGuid().ToString() })
        {
            foreach (var path in Pages(org).Append(OrganizationPaths.Csv(org)))
            {
                var response = await browser.GetAsync(path);
                var html = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
                Assert.DoesNotContain("Bravo Team", html);
                Assert.DoesNotContain(bob.KeyId, html);
            }
        }
    }

    [Fact]
    public async Task ThePersonalDashboardsCsvHoldsNoneOfTheOrganizationsRequests()
    {
        var a = await _app.CreateOrganizationAsync("Alpha Team", credits: 2m);
        var ada = await _app.AddMemberWithKeyAsync(a);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(ada.Key).PostChatAsync(Body)).StatusCode);
        using var browser = await _app.SignedInBrowserAsync(await EmailOfAsync(ada.UserId), AdminTestHelpers.Password);

        var csv = await (await browser.GetAsync("/dashboard/requests.csv")).Content.ReadAsStringAsync();

        Assert.Single(csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)); // the header only
    }

    [Theory]
    [InlineData(OrganizationRole.Member, false)]
    [InlineData(OrganizationRole.Admin, true)]
    public async Task OnlyAdminsAndOwnersRedeemACodeIntoTheOrganization(OrganizationRole role, bool allowed)
    {
        var org = await _app.CreateOrganizationAsync("Alpha Team");
        var member = await _app.AddMemberWithKeyAsync(org, role);
        var (_, batch) = await _app.Services.GetRequiredService<RedemptionCodes>().GenerateAsync(AdminCaller.Cli,
            new NewCodeBatch { Value = "4", Count = "1", ExpiresInDays = "", Note = "team" });
        using var browser = await _app.SignedInBrowserAsync(await EmailOfAsync(member.UserId), AdminTestHelpers.Password);

        // An admin's organization dashboard has the form; a member's does not, so the field is added to their own dashboard's form.
        var response = allowed
            ? await browser.SubmitFormAsync(OrganizationPaths.Dashboard(org.Id), "redeem", new Dictionary<string, string> { ["code"] = batch!.Codes[0] })
            : await browser.SubmitFormAsync("/dashboard", "redeem", new Dictionary<string, string> { ["code"] = batch!.Codes[0], ["organization"] = org.Id });
        Assert.Equal(allowed, (await browser.GetPageAsync(OrganizationPaths.Dashboard(org.Id))).Contains("data-testid=\"redeem-card\"", StringComparison.Ordinal));

        Assert.StartsWith(OrganizationPaths.Dashboard(org.Id) + "?redeem=" + (allowed ? "redeemed" : "notallowed"), response.RedirectTarget());
        Assert.Equal(allowed ? Money.FromUsd(4m) : 0, await _app.BalanceAsync(org.Id));
        Assert.Equal(0, await _app.BalanceAsync(member.UserId));
        if (allowed)
        {
            Assert.Contains("Code redeemed: $4.00 was added to the organization", await browser.GetPageAsync(response.RedirectTarget()!));
            var entry = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.CodeRedeem));
            Assert.Equal(($"account:{org.Id}", member.UserId), (entry.Target, entry.ActorId));
        }
    }

    [Fact]
    public async Task ANonMemberCannotRedeemIntoAnOrganizationByNamingIt()
    {
        var org = await _app.CreateOrganizationAsync("Alpha Team");
        var eve = await _app.CreateUserAsync("eve@example.com", AdminTestHelpers.Password);
        var (_, batch) = await _app.Services.GetRequiredService<RedemptionCodes>().GenerateAsync(AdminCaller.Cli,
            new NewCodeBatch { Value = "4", Count = "1", ExpiresInDays = "", Note = "team" });
        using var browser = await _app.SignedInBrowserAsync("eve@example.com", AdminTestHelpers.Password);

        // Her own dashboard's form, with the organization field added by hand.
        var response = await browser.SubmitFormAsync("/dashboard", "redeem", new Dictionary<string, string> { ["code"] = batch!.Codes[0], ["organization"] = org.Id });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, await _app.BalanceAsync(org.Id));
        Assert.Equal(0, await _app.BalanceAsync(eve.Id));
        Assert.Equal(0, await _app.InStoreAsync(db => db.RedemptionCodes.CountAsync(c => c.RedeemedAt != null)));
    }

    private static IEnumerable<string> Pages(string id) =>
        [OrganizationPaths.Dashboard(id), OrganizationPaths.Keys(id), OrganizationPaths.Members(id), OrganizationPaths.Settings(id)];

    private Task<string> EmailOfAsync(string userId) => _app.InStoreAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email!).SingleAsync());
}
