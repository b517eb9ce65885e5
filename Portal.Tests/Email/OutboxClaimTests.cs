using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Email;
using Portal.Tests.Admin;
using Portal.Tests.Store;

namespace Portal.Tests.Email;

/// <summary>
/// Several senders on one store (instances sharing PostgreSQL) send each message once: each row is
/// claimed by one conditional update. On SQLite and on PostgreSQL.
/// </summary>
public abstract class OutboxClaimTests : StoreAppTest
{
    private SmtpTestServer? _smtp;

    protected override IReadOnlyDictionary<string, string?> Settings => Smtp.Settings();

    private SmtpTestServer Smtp => _smtp ??= SmtpTestServer.Create();

    [Fact]
    public virtual async Task SendersRacingOverOneOutboxSendEachMessageOnce()
    {
        await using var smtp = Smtp;
        await smtp.StartAsync();
        var outbox = App.Service<EmailOutbox>();
        for (var i = 0; i < 12; i++)
        {
            await outbox.QueueAsync("test", null, $"user{i}@example.com", $"Message {i}", "Hello.");
        }

        // Separate senders, as separate instances have: each with its own lock, sharing only the store.
        var senders = Enumerable.Range(0, 3).Select(_ => ActivatorUtilities.CreateInstance<OutboxSender>(App.Services)).ToList();
        // The app's own background sender, woken by each message, races them too.
        await Task.WhenAll(senders.Select(s => Task.Run(() => s.SendDueAsync())).Append(App.SendMailAsync()));

        Assert.Equal(12, Smtp.Messages().Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"Message {i}").Order(), Smtp.Messages().Select(m => m.Subject).Order());
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.All(await db.OutboxMessages.ToListAsync(), m => Assert.Equal((OutboxState.Sent, 1), (m.State, m.Attempts)));
    }
}

public sealed class SqliteOutboxClaimTests : OutboxClaimTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresOutboxClaimTests : OutboxClaimTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task SendersRacingOverOneOutboxSendEachMessageOnce() => base.SendersRacingOverOneOutboxSendEachMessageOnce();
}
