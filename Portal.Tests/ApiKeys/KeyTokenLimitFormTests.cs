using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

/// <summary>The key form's tokens-per-minute limit (ADR 33): stored as entered, shown on the list, bad input explained beside the field.</summary>
public sealed class KeyTokenLimitFormTests : ApiKeysPageTestBase
{
    [Fact]
    public async Task ATokenLimitIsStoredAndShownAndNoneMeansEachModelsDefault()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var plain = await App.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("plain"));
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "limited");
        page.Find("#key-tpm").Change("40000");
        Submit(page);
        page.WaitForElement("[data-testid=new-key]", TimeSpan.FromSeconds(10));

        var key = (await KeysOfAsync(user.Id)).Single(k => k.Name == "limited");
        Assert.Equal(40_000, key.TokensPerMinute);
        WaitForRows(page, 2);
        Assert.Equal("40,000 / min per model", Cell(RowOf(page, key.Id), "Token limit"));
        Assert.Equal("Each model's default", Cell(RowOf(page, plain.Key.Id), "Token limit"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("lots")]
    [InlineData("2000000000")]
    public async Task ABadTokenLimitIsExplainedBesideItsFieldAndCreatesNothing(string typed)
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "x");
        page.Find("#key-tpm").Change(typed);

        Submit(page);

        Assert.Contains("whole number of tokens per minute from 1 to 1,000,000,000", MessageBeside(page, "#key-tpm"));
        Assert.Single(FieldErrors(page));
        Assert.Equal(typed, page.Find("#key-tpm").GetAttribute("value"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }
}
