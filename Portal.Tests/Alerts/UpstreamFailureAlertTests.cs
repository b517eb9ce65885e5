using Microsoft.EntityFrameworkCore;
using Portal.Alerts;
using Portal.Tests.Admin;
using Portal.Tests.Email;
using Portal.Tests.Gateway;
using Portal.Tests.Upstreams;
using FakeUpstream = Portal.Tests.Upstreams.FakeUpstream;

namespace Portal.Tests.Alerts;

/// <summary>The admins' alert about an upstream that keeps failing (ADR 26), with a real failing provider on loopback and a real SMTP server.</summary>
public sealed class UpstreamFailureAlertTests
{
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":20}""";

    [Fact]
    public async Task AnUpstreamFailingInARowMailsEachAdminOnceAnHourNotOncePerFailure()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(new Dictionary<string, string?>(smtp.Settings()) { ["Alerts:UpstreamFailuresInARow"] = "3" });
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(500, "down"));
        var upstream = await app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream-secret-alert");
        await app.CreateUserAsync("admin@example.com", "correct horse battery", admin: true);
        await app.CreateUserAsync("ops@example.com", "correct horse battery", admin: true);
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var client = app.ApiClient(account.Key);

        for (var i = 0; i < 6; i++) // two attempts each: 12 failures in a row
        {
            Assert.Equal(HttpStatusCode.BadGateway, (await client.PostChatAsync(Hello)).StatusCode);
        }

        await WaitForAlertsAsync(app, 2);
        await app.SendMailAsync();
        var alert = Assert.Single(smtp.MessagesTo("admin@example.com"));
        Assert.Equal($"Upstream {upstream.Id} of glm-5 keeps failing", alert.Subject);
        Assert.DoesNotContain("sk-upstream-secret-alert", alert.TextBody);
        Assert.Single(smtp.MessagesTo("ops@example.com"));
        Assert.Empty(smtp.MessagesTo(await app.InStoreAsync(db => db.Users.Where(u => u.Id == account.UserId).Select(u => u.Email!).SingleAsync())));

        // Within the hour: failing on sends nothing more, and neither would another instance (the store's claim).
        for (var i = 0; i < 3; i++)
        {
            await client.PostChatAsync(Hello);
        }

        Assert.False(await app.Service<UpstreamFailureAlerts>().AlertAsync(new(upstream.Id, "glm-5", "127.0.0.1", "upstream-glm-5", 3, "upstream_error"), default));

        // An hour on, still failing: one more each.
        app.Time.Advance(TimeSpan.FromMinutes(61));
        for (var i = 0; i < 2; i++)
        {
            await client.PostChatAsync(Hello);
        }

        await WaitForAlertsAsync(app, 4);
        await app.SendMailAsync();
        Assert.Equal(2, smtp.MessagesTo("admin@example.com").Count);
        Assert.Equal(4, await CountAlertsAsync(app));
    }

    [Fact]
    public async Task ASuccessEndsTheStreak()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Alerts:UpstreamFailuresInARow"] = "2" });
        var answer = Reply.Stream(Chunks.Content("Hi!", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 2));
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(500, "down"), answer, Reply.Error(500, "down"), answer);
        var upstream = await app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await app.CreateApiAccountAsync(credits: 1m);

        for (var i = 0; i < 2; i++) // fail, then answer (the retry): never two failures in a row
        {
            Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(account.Key).PostChatAsync(Hello)).StatusCode);
        }

        Assert.Equal(4, provider.Requests.Count);
        Assert.Equal(0, app.Service<UpstreamFailureAlerts>().InARow(upstream.Id));
    }

    private static Task<int> CountAlertsAsync(PortalApplication app) =>
        app.InStoreAsync(db => db.OutboxMessages.CountAsync(m => m.Kind == UpstreamFailureAlerts.Kind));

    /// <summary>The alert is queued by a background loop, not by the failing request: waited for, boundedly.</summary>
    private static async Task WaitForAlertsAsync(PortalApplication app, int count)
    {
        for (var waited = 0; waited < 200 && await CountAlertsAsync(app) < count; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(count, await CountAlertsAsync(app));
    }
}
