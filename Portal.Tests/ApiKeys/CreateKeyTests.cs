using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

public sealed class CreateKeyTests : ApiKeysPageTestBase
{
    [Fact]
    public async Task CreatingAKeyShowsItsPlaintextExactlyOnceAndTheListOnlyItsMask()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);

        var plaintext = CreateThroughForm(page, "  billing service  ");

        Assert.True(ApiKeyService.LooksLikeKey(plaintext), $"'{plaintext}' is not shaped like a key");
        Assert.Equal(1, Occurrences(page.Markup, plaintext));
        Assert.Contains("This is the only time the key is shown. Store it now.", page.Find("[data-testid=new-key-panel]").TextContent);
        Assert.Contains(Snackbars(page), s => s.StartsWith("Created “billing service”.", StringComparison.Ordinal));

        var stored = Assert.Single(await KeysOfAsync(user.Id));
        Assert.Equal("billing service", stored.Name);
        Assert.Equal(ApiKeyService.HashOf(plaintext), stored.Hash);
        WaitForRows(page, 1);
        var row = RowOf(page, stored.Id);
        Assert.Equal($"{plaintext[..14]}…{plaintext[^4..]}", row.QuerySelector("[data-testid=key-mask]")!.TextContent);
        // Nothing of the secret part beyond the displayed prefix and last four is in the list.
        Assert.DoesNotContain(plaintext[14..^4], page.Find(".key-list").OuterHtml);
    }

    [Fact]
    public async Task ClosingThePanelRemovesThePlaintextForGood()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        var plaintext = CreateThroughForm(page, "ci");

        Button(page, "I've stored it, close").Click();

        Assert.Empty(page.FindAll("[data-testid=new-key-panel]"));
        Assert.DoesNotContain(plaintext[14..^4], page.Markup);
        WaitForRows(page, 1);
        // A later visit (a reload) renders the list from the store, which has only the hash.
        await DisposeComponentsAsync();
        var later = RenderPage();
        WaitForRows(later, 1);
        Assert.DoesNotContain(plaintext[14..^4], later.Markup);
    }

    [Fact]
    public async Task TheCopyButtonHandsTheKeyToTheClipboardHelper()
    {
        var copy = JSInterop.Setup<bool>("portal.copy", _ => true);
        copy.SetResult(true);
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        var plaintext = CreateThroughForm(page, "ci");

        Button(page, "Copy").Click();

        Assert.Equal(plaintext, Assert.Single(copy.Invocations).Arguments.Single());
        Assert.Contains("Copied to the clipboard.", page.Find("[data-testid=new-key-panel] [role=status]").TextContent);
    }

    [Fact]
    public async Task WhenTheBrowserRefusesToCopyTheUserIsToldToCopyByHand()
    {
        JSInterop.Setup<bool>("portal.copy", _ => true).SetResult(false);
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        CreateThroughForm(page, "ci");

        Button(page, "Copy").Click();

        Assert.Contains("Select the key and copy it yourself", page.Find("[data-testid=new-key-panel] [role=status]").TextContent);
    }

    [Fact]
    public async Task EveryLimitIsStoredAsEnteredAndShownOnTheCard()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "limited", expiry: "2026-12-31", cap: "12.5", rate: "120");
        page.Find("input[type=checkbox][data-model='kimi-k2']").Change(true);
        page.Find("input[type=checkbox][data-model='glm-5']").Change(true);

        Submit(page);
        page.WaitForElement("[data-testid=new-key]", TimeSpan.FromSeconds(10));

        var key = Assert.Single(await KeysOfAsync(user.Id));
        Assert.Equal(new DateTime(2026, 12, 31, 0, 0, 0), key.ExpiresAt);
        Assert.Equal(12_500_000, key.SpendCapMicros);
        Assert.Equal(120, key.RateLimitPerMinute);
        Assert.Equal("glm-5,kimi-k2", key.AllowedModels);
        WaitForRows(page, 1);
        var row = RowOf(page, key.Id);
        Assert.Equal("2026-12-31 00:00 UTC", Cell(row, "Expires"));
        Assert.Contains("$0.00 of $12.50", Cell(row, "Spent"));
        Assert.Equal("120 / min", Cell(row, "Rate limit"));
        Assert.Equal("glm-5, kimi-k2", Cell(row, "Models"));
        Assert.Equal("Active", Cell(row, "Status"));
    }

    [Fact]
    public async Task AKeyWithoutLimitsSaysSo()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        CreateThroughForm(page, "plain");
        WaitForRows(page, 1);

        var row = Assert.Single(Rows(page));

        Assert.Contains("no cap", Cell(row, "Spent"));
        Assert.Equal("All models", Cell(row, "Models"));
        Assert.Equal("60 / min (default)", Cell(row, "Rate limit"));
        Assert.Equal("Never", Cell(row, "Expires"));
        Assert.Equal("Never", Cell(row, "Last used"));
    }

    [Theory]
    [InlineData("", "", "", "", "#key-name", "Give the key a name")]
    [InlineData("   ", "", "", "", "#key-name", "Give the key a name")]
    [InlineData("x", "2026-11-22", "", "", "#key-expiry", "Pick a date after today")] // the test clock's today
    [InlineData("x", "2026-11-01", "", "", "#key-expiry", "Pick a date after today")]
    [InlineData("x", "", "0", "", "#key-cap", "more than $0")]
    [InlineData("x", "", "-5", "", "#key-cap", "more than $0")]
    [InlineData("x", "", "ten", "", "#key-cap", "Enter an amount in US dollars")]
    [InlineData("x", "", "1,5", "", "#key-cap", "Enter an amount in US dollars")]
    [InlineData("x", "", "0.0000001", "", "#key-cap", "6 decimal places")]
    [InlineData("x", "", "1000000001", "", "#key-cap", "at most $1,000,000,000")]
    [InlineData("x", "", "", "0", "#key-rate", "from 1 to 600")]
    [InlineData("x", "", "", "601", "#key-rate", "Keys here may make at most 600 requests per minute")]
    [InlineData("x", "", "", "1000001", "#key-rate", "Keys here may make at most 600 requests per minute")]
    [InlineData("x", "", "", "2.5", "#key-rate", "from 1 to 600")]
    [InlineData("x", "", "", "lots", "#key-rate", "from 1 to 600")]
    public async Task ABadEntryIsExplainedBesideItsFieldKeptAndCreatesNothing(
        string name, string expiry, string cap, string rate, string field, string message)
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, name, expiry, cap, rate);

        Submit(page);

        Assert.Contains(message, MessageBeside(page, field));
        Assert.Single(FieldErrors(page));
        Assert.Equal(name, page.Find("#key-name").GetAttribute("value"));
        Assert.Equal(expiry, page.Find("#key-expiry").GetAttribute("value"));
        Assert.Equal(cap, page.Find("#key-cap").GetAttribute("value"));
        Assert.Equal(rate, page.Find("#key-rate").GetAttribute("value"));
        Assert.Empty(page.FindAll("[data-testid=new-key-panel]"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("2027-02-30")]
    public async Task AnExpiryThatIsNotADateIsExplainedAndCreatesNothing(string typed)
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "ci", expiry: typed);

        Submit(page);

        // The field's conversion error renders after the component's asynchronous handlers: seen missing under load.
        page.WaitForAssertion(() => Assert.Equal("Enter a date such as 2027-01-31.", MessageBeside(page, "#key-expiry")), TimeSpan.FromSeconds(10));
        Assert.Empty(page.FindAll("[data-testid=new-key-panel]"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }

    [Fact]
    public async Task EveryBadFieldIsReportedAtOnce()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, new string('n', 101), "2026-11-20", "0", "0");

        Submit(page);

        Assert.Contains("at most 100 characters; this one has 101", MessageBeside(page, "#key-name"));
        Assert.NotNull(MessageBeside(page, "#key-expiry"));
        Assert.NotNull(MessageBeside(page, "#key-cap"));
        Assert.NotNull(MessageBeside(page, "#key-rate"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }

    [Fact]
    public async Task FixingAFieldClearsItsMessageAndTheKeyCanThenBeCreated()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "ci", rate: "0");
        Submit(page);
        Assert.NotNull(MessageBeside(page, "#key-rate"));

        page.Find("#key-rate").Change("100");

        Assert.Null(MessageBeside(page, "#key-rate"));
        Submit(page);
        page.WaitForElement("[data-testid=new-key]", TimeSpan.FromSeconds(10));
        Assert.Equal(100, Assert.Single(await KeysOfAsync(user.Id)).RateLimitPerMinute);
    }

    [Fact]
    public async Task CancellingTheFormCreatesNothing()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);
        OpenCreateForm(page);
        Fill(page, "never mind");

        Button(page, "Cancel").Click();

        Assert.Empty(page.FindAll("[data-testid=create-key-form]"));
        Assert.NotNull(page.Find("[data-testid=keys-empty]"));
        Assert.Empty(await KeysOfAsync(user.Id));
    }

    [Fact]
    public async Task OnlyEnabledModelsAreOffered()
    {
        await App.InStoreAsync(db => db.Models.Where(m => m.Id == "deepseek-r1")
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Enabled, false)));
        App.Services.GetRequiredService<Portal.Catalog.ModelCatalog>().Invalidate();
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var page = RenderPageAs(user);

        OpenCreateForm(page);

        var offered = page.WaitForElements("[data-testid=create-key-form] input[type=checkbox]").Select(c => c.GetAttribute("data-model")).ToList();
        Assert.Equal(["glm-5", "glm-5.2", "kimi-k2"], offered);
    }
}
