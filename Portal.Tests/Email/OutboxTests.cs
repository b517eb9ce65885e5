using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Portal.Data;
using Portal.Email;
using Portal.Tests.Admin;

namespace Portal.Tests.Email;

/// <summary>The outbox: what leaves, where it goes without an SMTP server, and what happens while the server is down.</summary>
public sealed class OutboxTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task WithoutAnSmtpHostEachMessageIsWrittenAsAnEmlFileInTheDataFolder()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();
        await browser.SignUpAsync("ada@example.com", Password);

        await app.SendMailAsync();

        var file = Assert.Single(Directory.GetFiles(Path.Combine(app.DataFolder, EmlFolderTransport.FolderName), "*.eml"));
        var message = await MimeMessage.LoadAsync(file);
        Assert.Equal("ada@example.com", message.To.Mailboxes.Single().Address);
        Assert.Equal("Verify your email for Portal", message.Subject);
        Assert.StartsWith("http://localhost/account/confirm-email?userId=", SmtpTestServer.LinkIn(message).ToString());
        var row = await SingleRowAsync(app);
        Assert.Equal((OutboxState.Sent, 1, Path.GetFileName(file)), (row.State, row.Attempts, row.File));
        Assert.Equal("", row.Body); // its one-time link lives on only in the file
    }

    [Fact]
    public async Task MailLeavesThroughARealSmtpServer()
    {
        await using var smtp = await SmtpTestServer.StartNewAsync();
        await using var app = new PortalApplication(smtp.Settings());
        using var browser = app.CreateBrowser();
        await browser.SignUpAsync("ada@example.com", Password);

        await app.SendMailAsync();

        var message = Assert.Single(smtp.MessagesTo("ada@example.com"));
        Assert.Equal("Verify your email for Portal", message.Subject);
        Assert.Equal("no-reply@localhost", message.From.Mailboxes.Single().Address);
        Assert.False(Directory.Exists(Path.Combine(app.DataFolder, EmlFolderTransport.FolderName)));
        Assert.Equal(OutboxState.Sent, (await SingleRowAsync(app)).State);
    }

    [Fact]
    public async Task WhileTheSmtpServerIsDownMailWaitsWithGrowingPausesAndLeavesOnceItIsBack()
    {
        await using var smtp = SmtpTestServer.Create(); // not started: down
        await using var app = new PortalApplication(smtp.Settings());
        await app.Service<EmailOutbox>().QueueAsync("test", null, "ada@example.com", "Hello", "Hi there.");

        await app.SendMailAsync();
        var first = await SingleRowAsync(app);
        Assert.Equal((OutboxState.Queued, 1), (first.State, first.Attempts));
        Assert.NotNull(first.LastError);
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime.AddSeconds(30), first.NextAttemptAt);

        await app.SendMailAsync(); // not due yet: no attempt
        Assert.Equal(1, (await SingleRowAsync(app)).Attempts);

        app.Time.Advance(TimeSpan.FromSeconds(30));
        await app.SendMailAsync();
        var second = await SingleRowAsync(app);
        Assert.Equal((OutboxState.Queued, 2), (second.State, second.Attempts));
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime.AddSeconds(60), second.NextAttemptAt); // doubled

        await smtp.StartAsync();
        app.Time.Advance(TimeSpan.FromSeconds(60));
        await app.SendMailAsync();

        var sent = await SingleRowAsync(app);
        Assert.Equal((OutboxState.Sent, 3, (string?)null), (sent.State, sent.Attempts, sent.LastError));
        Assert.Equal("Hello", Assert.Single(smtp.MessagesTo("ada@example.com")).Subject);
    }

    [Fact]
    public async Task AfterTheLastAttemptAMessageIsMarkedFailedAndKept()
    {
        await using var smtp = SmtpTestServer.Create();
        await using var app = new PortalApplication(new Dictionary<string, string?>(smtp.Settings()) { ["Email:MaxAttempts"] = "2" });
        await app.Service<EmailOutbox>().QueueAsync("test", null, "ada@example.com", "Hello", "Hi there.");

        await app.SendMailAsync();
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.SendMailAsync();
        app.Time.Advance(TimeSpan.FromHours(2));
        await app.SendMailAsync();

        var row = await SingleRowAsync(app);
        Assert.Equal((OutboxState.Failed, 2), (row.State, row.Attempts));
        Assert.Equal("Hi there.", row.Body);
    }

    private static async Task<OutboxMessage> SingleRowAsync(PortalApplication app)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.OutboxMessages.AsNoTracking().SingleAsync();
    }
}
