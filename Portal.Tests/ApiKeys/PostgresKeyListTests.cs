using Microsoft.EntityFrameworkCore;
using Portal.Tests.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Tests.Store;

namespace Portal.Tests.ApiKeys;

/// <summary>What the keys page asks of the store (list a page, revoke), on a real PostgreSQL.</summary>
public sealed class PostgresKeyListTests : PostgresAppTest
{
    private const string Password = "correct horse battery";
    private ApiKeyService Keys => App.Services.GetRequiredService<ApiKeyService>();


    [PostgresFact]
    public async Task ListingIsTheUsersOwnKeysNewestFirstAPageAtATime()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        foreach (var name in new[] { "one", "two", "three" })
        {
            await Keys.CreateAsync(ada.Id, new NewApiKey(name));
            App.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await Keys.CreateAsync(bob.Id, new NewApiKey("bob's"));

        var first = await Keys.ListAsync(ada.Id, skip: 0, take: 2);
        var second = await Keys.ListAsync(ada.Id, skip: 2, take: 2);

        Assert.Equal(3, first.Total);
        Assert.Equal(["three", "two"], first.Keys.Select(k => k.Name));
        Assert.Equal(["one"], second.Keys.Select(k => k.Name));
    }

    [PostgresFact]
    public async Task SortedByLastUseKeysNeverUsedComeLastEitherWay()
    {
        // PostgreSQL puts NULLs first when descending; the list must not lead with unused keys.
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var ids = new Dictionary<string, string>();
        foreach (var name in new[] { "never", "early", "late" })
        {
            ids[name] = (await Keys.CreateAsync(ada.Id, new NewApiKey(name))).Key.Id;
        }

        await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == ids["early"]).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc))));
        await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == ids["late"]).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, new DateTime(2026, 11, 2, 0, 0, 0, DateTimeKind.Utc))));

        var newestUse = await Keys.ListAsync(ada.Id, 0, 10, KeyOrder.LastUsed, descending: true);
        var oldestUse = await Keys.ListAsync(ada.Id, 0, 10, KeyOrder.LastUsed, descending: false);

        Assert.Equal(["late", "early", "never"], newestUse.Keys.Select(k => k.Name));
        Assert.Equal(["early", "late", "never"], oldestUse.Keys.Select(k => k.Name));
    }

    [PostgresFact]
    public async Task RevokingAnotherUsersKeyChangesNothing()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var (bobs, _) = await Keys.CreateAsync(bob.Id, new NewApiKey("bob's"));

        Assert.False(await Keys.RevokeAsync(ada.Id, bobs.Id));
        Assert.Null(Assert.Single((await Keys.ListAsync(bob.Id, 0, 10)).Keys).RevokedAt);
        Assert.True(await Keys.RevokeAsync(bob.Id, bobs.Id));
        Assert.NotNull(Assert.Single((await Keys.ListAsync(bob.Id, 0, 10)).Keys).RevokedAt);
    }
}
