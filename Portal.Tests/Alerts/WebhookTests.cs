using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Alerts;
using Portal.Audit;
using Portal.Billing;
using Portal.Email;
using Portal.Tests.Admin;
using Portal.Tests.Docs;
using Portal.Tests.Gateway;

namespace Portal.Tests.Alerts;

/// <summary>The user's webhook (ADR 26): signed deliveries to a real loopback receiver, retried through the outbox, and the SSRF guard.</summary>
public sealed class WebhookTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";

    [Fact]
    public async Task ATestEventIsSignedWithTheSecretShownOnceAndTriedAgainAfterA500()
    {
        await using var receiver = await WebhookReceiver.StartAsync(500, 200);
        await using var app = new PortalApplication();
        var user = await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var saved = await (await browser.SubmitFormAsync("/settings/profile", "webhook", new Dictionary<string, string> { ["Input.Url"] = receiver.Url })).PageAsync();
        var secret = SecretIn(saved);
        Assert.StartsWith("whsec_", secret);
        Assert.DoesNotContain(secret, await browser.GetPageAsync("/settings/profile")); // shown once
        Assert.Contains("Webhook changed", Html.Text(saved));
        Assert.DoesNotContain(secret, (await app.InStoreAsync(db => db.AlertSettings.SingleAsync())).ProtectedWebhookSecret);

        var tested = await (await browser.SubmitFormAsync("/settings/profile", "webhook-test", new Dictionary<string, string>())).PageAsync();
        Assert.Single(Html.Successes(tested));
        var again = await (await browser.SubmitFormAsync("/settings/profile", "webhook-test", new Dictionary<string, string>())).PageAsync();
        Assert.Equal(["A test event went out moments ago. Try again in 30 seconds."], Html.Errors(again));
        await app.SendMailAsync();
        var failed = Assert.Single(receiver.Deliveries);
        var row = await app.InStoreAsync(db => db.OutboxMessages.SingleAsync(m => m.Channel == OutboxChannel.Webhook));
        Assert.Equal((OutboxState.Queued, 1, "HttpRequestException: The webhook answered HTTP 500."), (row.State, row.Attempts, row.LastError));

        app.Time.Advance(TimeSpan.FromSeconds(30)); // the outbox's first backoff
        await app.SendMailAsync();

        Assert.Equal(2, receiver.Deliveries.Count);
        var delivered = receiver.Deliveries[1];
        Assert.Equal(OutboxState.Sent, (await app.InStoreAsync(db => db.OutboxMessages.SingleAsync(m => m.Channel == OutboxChannel.Webhook))).State);
        foreach (var delivery in new[] { failed, delivered })
        {
            AssertSigned(delivery, secret);
            Assert.Equal("test", JsonNode.Parse(delivery.Body)!["type"]!.GetValue<string>());
            Assert.Equal(row.Id.ToString(CultureInfo.InvariantCulture), delivery.Headers["Portal-Delivery"]);
        }

        Assert.Equal(failed.Body, delivered.Body); // the same event, signed afresh: the retry's timestamp is the retry's
        Assert.Equal(app.Time.GetUtcNow().ToUnixTimeSeconds(), Timestamp(delivered));
        Assert.Equal(30, Timestamp(delivered) - Timestamp(failed));
        Assert.Throws<Xunit.Sdk.EqualException>(() => AssertSigned(delivered, "whsec_not-the-secret"));
        _ = user;
    }

    [Fact]
    public async Task ALowBalanceAlertIsPostedToTheWebhookToo()
    {
        await using var receiver = await WebhookReceiver.StartAsync(200);
        await using var app = new PortalApplication();
        var account = await app.CreateApiAccountAsync(credits: 2m);
        var secret = await app.Service<Webhooks>().SetAsync(account.UserId, new Uri(receiver.Url));
        await app.Service<LowBalanceAlerts>().SetThresholdAsync(account.UserId, Money.FromUsd(1m));
        await app.Service<CreditsLedger>().GrantAsync(account.UserId, -Money.FromUsd(1.25m), "adjustment", actorId: null);

        Assert.Equal(1, await app.Service<LowBalanceAlerts>().CheckAsync());
        await app.SendMailAsync();

        var delivery = Assert.Single(receiver.Deliveries);
        AssertSigned(delivery, secret);
        var body = JsonNode.Parse(delivery.Body)!;
        Assert.Equal(("balance.low", 0.75m, 1m), (body["type"]!.GetValue<string>(), body["data"]!["balance_usd"]!.GetValue<decimal>(), body["data"]!["threshold_usd"]!.GetValue<decimal>()));
        Assert.StartsWith("evt_", body["id"]!.GetValue<string>());
        Assert.Equal("balance.low", delivery.Headers["Portal-Event"]);
    }

    [Theory]
    [InlineData("https://127.0.0.1:8443/hook", "127.0.0.1 is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")]
    [InlineData("https://[::1]/hook", "[::1] is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")]
    [InlineData("https://169.254.169.254/latest/meta-data", "169.254.169.254 is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")]
    [InlineData("https://10.0.0.7/hook", "10.0.0.7 is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")]
    [InlineData("https://localhost/hook", "localhost is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")]
    [InlineData("http://93.184.215.14/hook", "Webhook URLs must start with https://.")]
    [InlineData("not a url", "Enter a full URL, e.g. https://example.com/portal-events.")]
    [InlineData("ftp://93.184.215.14/hook", "Enter a full URL, e.g. https://example.com/portal-events.")]
    [InlineData("https://user:pw@93.184.215.14/hook", "Leave the name and password out of the URL: check the Portal-Signature header instead.")]
    [InlineData("", "Enter the URL Portal should post events to.")]
    public async Task OutsideDevelopmentInwardAndMalformedUrlsAreRefusedWithAClearMessage(string url, string message)
    {
        await using var app = new PortalApplication { EnvironmentName = "Production" };
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var page = await (await browser.SubmitFormAsync("/settings/profile", "webhook", new Dictionary<string, string> { ["Input.Url"] = url })).PageAsync();

        Assert.Equal([message], Html.Errors(page));
        Assert.Equal(0, await app.InStoreAsync(db => db.AlertSettings.CountAsync(a => a.WebhookUrl != null)));
        Assert.Equal(0, await app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.WebhookChange)));
    }

    [Fact]
    public async Task OutsideDevelopmentADeliveryToAnInwardAddressFailsAtConnectingWithoutReachingIt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(200);
        await using var app = new PortalApplication { EnvironmentName = "Production" };
        var user = await app.CreateUserAsync(Email, Password);
        // As if the name had resolved to a public address when saved and to loopback since (DNS rebinding).
        await app.Service<Webhooks>().SetAsync(user.Id, new Uri(receiver.Url));

        Assert.Equal(Webhooks.WebhookTest.Queued, await app.Service<Webhooks>().QueueTestAsync(user.Id));
        await app.SendMailAsync();

        Assert.Empty(receiver.Deliveries);
        var row = await app.InStoreAsync(db => db.OutboxMessages.SingleAsync(m => m.Channel == OutboxChannel.Webhook));
        Assert.Equal((OutboxState.Failed, 1), (row.State, row.Attempts));
        Assert.Contains("webhooks go to public addresses only", row.LastError);
    }

    [Fact]
    public async Task TheDocsVerificationExampleAcceptsARealDeliveryAndRefusesATamperedOrStaleOne()
    {
        await using var receiver = await WebhookReceiver.StartAsync(200);
        await using var app = new PortalApplication();
        var user = await app.CreateUserAsync(Email, Password);
        var secret = await app.Service<Webhooks>().SetAsync(user.Id, new Uri(receiver.Url));
        await app.Service<Webhooks>().QueueTestAsync(user.Id);
        await app.SendMailAsync();
        var delivery = Assert.Single(receiver.Deliveries);
        var example = Assert.Single(DocsSource.CodeBlocks("py"), b => b.Page.Slug == "webhooks").Code;
        var folder = Directory.CreateTempSubdirectory("portal-webhook-py-").FullName;
        try
        {
            var script = Path.Combine(folder, "verify.py");
            await File.WriteAllTextAsync(script, example + """

                import os
                import sys
                body = open(sys.argv[1], "rb").read()
                now = float(sys.argv[2]) if len(sys.argv) > 2 else None
                print(verify(os.environ["SECRET"], os.environ["SIGNATURE"], body, now=now))
                """);
            var genuine = Path.Combine(folder, "genuine.json");
            var tampered = Path.Combine(folder, "tampered.json");
            await File.WriteAllTextAsync(genuine, delivery.Body);
            await File.WriteAllTextAsync(tampered, delivery.Body.Replace("test", "tesT", StringComparison.Ordinal));
            var environment = new Dictionary<string, string> { ["SECRET"] = secret, ["SIGNATURE"] = delivery.Headers["Portal-Signature"] };
            // The test's clock is not the machine's: "now" is given, at the delivery's time or ten minutes on.
            var then = Timestamp(delivery).ToString(CultureInfo.InvariantCulture);
            var late = (Timestamp(delivery) + 600).ToString(CultureInfo.InvariantCulture);

            Assert.Equal("True", (await ExternalCommand.RunAsync("python3", [script, genuine, then], folder, environment)).Stdout.Trim());
            Assert.Equal("False", (await ExternalCommand.RunAsync("python3", [script, tampered, then], folder, environment)).Stdout.Trim());
            Assert.Equal("False", (await ExternalCommand.RunAsync("python3", [script, genuine, late], folder, environment)).Stdout.Trim());
            Assert.Equal("False", (await ExternalCommand.RunAsync("python3", [script, genuine, then], folder, new Dictionary<string, string>(environment) { ["SECRET"] = "whsec_other" })).Stdout.Trim());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    public void OnlyPublicAddressesArePublic(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookAddress.IsPublic(IPAddress.Parse(address)));

    /// <summary>What the docs tell a receiver to do: HMAC-SHA256 of "t.body" with the secret, compared with v1.</summary>
    private static void AssertSigned(WebhookDelivery delivery, string secret)
    {
        var parts = delivery.Headers["Portal-Signature"].Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{parts["t"]}.{delivery.Body}")));
        Assert.Equal(expected, parts["v1"]);
    }

    private static long Timestamp(WebhookDelivery delivery) =>
        long.Parse(delivery.Headers["Portal-Signature"].Split(',')[0]["t=".Length..], CultureInfo.InvariantCulture);

    private static string SecretIn(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"webhook-secret\"[^>]*>([^<]+)<").Groups[1].Value;
}
