using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.RateLimits;

/// <summary>Where tokens-per-minute limits are set (ADR 33): the key form, the CLI's create-key, the model editor; hostile values explained, nothing stored.</summary>
public sealed class TokenLimitSettingsTests
{
    [Theory]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("1e3")]
    [InlineData("12.5")]
    [InlineData("1000000001")]
    [InlineData("99999999999999999999999")]
    public void TheKeyFormExplainsABadTokenLimit(string typed)
    {
        var form = new KeyForm(600) { Name = "ci", TokensPerMinute = typed };

        var errors = form.Check(DateTimeOffset.UnixEpoch);

        Assert.Equal("Enter a whole number of tokens per minute from 1 to 1,000,000,000, or leave it empty for each model's default.", Assert.Single(errors).Value);
        Assert.Equal(nameof(KeyForm.TokensPerMinute), errors.Keys.Single());
    }

    [Fact]
    public void TheKeyFormTurnsATokenLimitIntoTheRequestAndEmptyMeansTheModelsDefault()
    {
        Assert.Equal(40_000, new KeyForm(600) { Name = "ci", TokensPerMinute = " 40000 " }.ToRequest().TokensPerMinute);
        Assert.Null(new KeyForm(600) { Name = "ci" }.ToRequest().TokensPerMinute);
    }

    [Fact]
    public async Task TheServiceRefusesATokenLimitOutOfRangeFromAnyCaller()
    {
        await using var app = new PortalApplication();
        var user = await app.CreateUserAsync("ada@example.com", AdminTestHelpers.Password);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => app.Service<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("x", TokensPerMinute: 0)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => app.Service<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("x", TokensPerMinute: -1)));
        Assert.Equal(0, await app.InStoreAsync(db => db.ApiKeys.CountAsync()));
    }

    [Fact]
    public async Task CreateKeyTakesTokensPerMinuteAndRefusesHostileValues()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", AdminTestHelpers.Password);

        var made = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--tokens-per-minute", "90000");
        var negative = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--tokens-per-minute", "-1");
        var huge = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--tokens-per-minute", "4294967296");

        Assert.Equal(AdminCli.Ok, made.ExitCode);
        Assert.Equal(90_000, (await app.InStoreAsync(db => db.ApiKeys.SingleAsync())).TokensPerMinute);
        Assert.Equal((AdminCli.Usage, AdminCli.Usage), (negative.ExitCode, huge.ExitCode));
        Assert.Contains("--tokens-per-minute: Enter a whole number of tokens per minute from 1 to 1,000,000,000", negative.Stderr);
        Assert.Contains("--tokens-per-minute", huge.Stderr);
        Assert.Equal(1, await app.InStoreAsync(db => db.ApiKeys.CountAsync()));
    }

    [Fact]
    public async Task TheModelEditorSetsADefaultTokenLimitAndBlankMeansNone()
    {
        await using var app = new PortalApplication();
        var (_, caller) = await app.CreateAdminCallerAsync();
        var catalog = app.Service<CatalogAdmin>();

        var form = (await catalog.FormForAsync(caller, "glm-5"))!;
        Assert.Equal("", form.TokensPerMinute);
        form.TokensPerMinute = "-20";
        var refused = await catalog.SaveAsync(caller, form, isNew: false);
        form.TokensPerMinute = "120,000";
        var saved = await catalog.SaveAsync(caller, form, isNew: false);

        Assert.Equal("Enter a whole number of tokens per minute from 1 to 1,000,000,000, or leave it empty for no limit.", refused.ErrorFor(nameof(ModelForm.TokensPerMinute)));
        Assert.True(saved.Succeeded);
        Assert.Equal(120_000, (await app.Service<ModelCatalog>().FindAsync("glm-5"))!.TokensPerMinute);
        Assert.Equal("120000", (await catalog.FormForAsync(caller, "glm-5"))!.TokensPerMinute);

        form.TokensPerMinute = " ";
        Assert.True((await catalog.SaveAsync(caller, form, isNew: false)).Succeeded);
        Assert.Null((await app.Service<ModelCatalog>().FindAsync("glm-5"))!.TokensPerMinute);
    }
}
