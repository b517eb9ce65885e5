using Microsoft.EntityFrameworkCore;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Observability;

public sealed class HealthTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task HealthzSaysTheProcessIsAlive()
    {
        var response = await _app.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadyzIsReadyWhenTheStoreAnswersAndItsSchemaIsCurrent()
    {
        var response = await _app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadyzIsNotReadyWhileAMigrationIsPending()
    {
        // As if a newer binary had started on an older store: its last migration is not applied.
        await _app.InStoreAsync(db => db.Database.ExecuteSqlRawAsync(
            """DELETE FROM "__EFMigrationsHistory" WHERE "MigrationId" = (SELECT MAX("MigrationId") FROM "__EFMigrationsHistory")"""));

        var response = await _app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("not ready: 1 store migration(s) pending", await response.Content.ReadAsStringAsync());
    }
}

public sealed class PostgresHealthTests
{
    [PostgresFact]
    public async Task ReadyzIsNotReadyWhenTheStoreIsGone()
    {
        await using var database = new PostgresTestDatabase();
        using var app = new PortalApplication(database.StoreSettings());
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        // The database disappears under the running Portal.
        await database.DropAsync();

        var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("not ready: the store does not answer", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(database.Name, await response.Content.ReadAsStringAsync());
    }
}
