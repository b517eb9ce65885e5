using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Microsoft.Extensions.DependencyInjection;
using Portal.Email;
using Portal.Tests.Admin;

namespace Portal.Tests.Email;

public sealed class OutboxPageTests : AdminComponentTestBase
{
    [Fact]
    public async Task TheOutboxListsEachMessageWithItsStateAttemptsAndFile()
    {
        await SignInAsAdminAsync();
        await App.Service<EmailOutbox>().QueueAsync("test", null, "ada@example.com", "Hello Ada", "Hi.");
        await App.SendMailAsync();
        // One the server refused, waiting for its next attempt (written directly: nothing wakes the sender).
        await using (var db = await App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                Kind = "test", To = "bob@example.com", Subject = "Hello Bob", Body = "Hi.", Attempts = 1, LastError = "SmtpCommandException: mailbox unavailable",
                CreatedAt = App.Time.GetUtcNow().UtcDateTime, NextAttemptAt = App.Time.GetUtcNow().UtcDateTime.AddSeconds(30),
            });
            await db.SaveChangesAsync();
        }

        var page = Render<OutboxPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), Wait);
        var rows = page.FindAll("tbody tr").Select(r => r.TextContent).ToList();
        Assert.Contains("bob@example.com", rows[0]);
        Assert.Contains("retry at 09:30:30", rows[0]);
        Assert.Contains("mailbox unavailable", rows[0]);
        Assert.Contains("ada@example.com", rows[1]);
        Assert.Contains("sent", rows[1]);
        var file = Directory.GetFiles(Path.Combine(App.DataFolder, EmlFolderTransport.FolderName)).Single();
        Assert.Equal(Path.GetFileName(file), page.Find("[data-testid=outbox-file]").TextContent);
        Assert.Contains("written as an .eml file", page.Find("[data-testid=outbox-transport]").TextContent);
    }

    [Fact]
    public async Task ANonAdminSeesNoMessages()
    {
        await SignInAsNonAdminAsync();
        await App.Service<EmailOutbox>().QueueAsync("test", null, "ada@example.com", "Hello Ada", "Hi.");

        var page = Render<OutboxPage>();

        page.WaitForAssertion(() => Assert.Contains("Only administrators", page.Markup), Wait);
        Assert.DoesNotContain("ada@example.com", page.Markup);
    }
}
