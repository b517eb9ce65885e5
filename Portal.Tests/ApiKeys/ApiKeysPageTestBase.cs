using System.Security.Claims;
using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Tests.Components;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

/// <summary>
/// The API keys page rendered with bUnit over a real (SQLite) store: the services come from a
/// <see cref="PortalApplication"/>, so what the page writes is what the gateway reads.
/// </summary>
public abstract class ApiKeysPageTestBase : ComponentTestBase
{
    protected const string Password = "correct horse battery";
    private static readonly TimeSpan StoreWait = TimeSpan.FromSeconds(10);

    protected ApiKeysPageTestBase()
    {
        // Focus moves and the copy helper go through JS; tests that care set up their own answers.
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddLogging();
        Services.AddSingleton<TimeProvider>(App.Time);
        Services.AddSingleton(App.Services.GetRequiredService<ApiKeyService>());
        Services.AddSingleton(App.Services.GetRequiredService<ModelCatalog>());
        Services.AddSingleton(App.Services.GetRequiredService<IOptions<GatewayOptions>>());
        Services.AddSingleton(App.Services.GetRequiredService<IOptions<ApiKeyOptions>>());
        Services.AddSingleton(App.Services.GetRequiredService<IOptions<IdentityOptions>>());
        Services.AddSingleton(App.Services.GetRequiredService<EmailVerification>());
    }

    protected PortalApplication App { get; } = new();

    protected ApiKeyService KeyService => App.Services.GetRequiredService<ApiKeyService>();

    protected override async Task DisposeFixturesAsync() => await App.DisposeAsync();

    /// <summary>Signs the test's user in the way Identity does: the user id in the name-identifier claim.</summary>
    protected void SignInAs(PortalUser user)
    {
        SignInAs(user.Email!);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
    }

    /// <summary>
    /// Renders the page as <paramref name="user"/>, with the providers its dialog and snackbars use,
    /// and waits for the first load from the store.
    /// </summary>
    protected IRenderedComponent<KeysPageHost> RenderPageAs(PortalUser user)
    {
        SignInAs(user);
        return RenderPage();
    }

    /// <summary>Renders the page for the user signed in already (a reload) and waits for the first load.</summary>
    protected IRenderedComponent<KeysPageHost> RenderPage()
    {
        var page = Render<KeysPageHost>();
        page.WaitForAssertion(() => Assert.True(
            page.FindAll("[data-testid=key-name]").Count > 0 || page.FindAll("[data-testid=keys-empty]").Count > 0,
            "the key list never loaded"), StoreWait);
        return page;
    }

    protected static IElement Button(IRenderedComponent<IComponent> page, string text) =>
        page.FindAll("button").Single(b => b.TextContent.Trim() == text);

    protected static void OpenCreateForm(IRenderedComponent<IComponent> page) => Button(page, "Create key").Click();

    protected static void Fill(IRenderedComponent<IComponent> page, string name = "", string expiry = "", string cap = "", string rate = "")
    {
        page.Find("#key-name").Change(name);
        page.Find("#key-expiry").Change(expiry);
        page.Find("#key-cap").Change(cap);
        page.Find("#key-rate").Change(rate);
    }

    protected static void Submit(IRenderedComponent<IComponent> page) => page.Find("[data-testid=create-key-form] form").Submit();

    /// <summary>Creates a key through the form and returns the plaintext the panel shows.</summary>
    protected static string CreateThroughForm(IRenderedComponent<IComponent> page, string name)
    {
        OpenCreateForm(page);
        Fill(page, name);
        Submit(page);
        return page.WaitForElement("[data-testid=new-key]", StoreWait).TextContent;
    }

    /// <summary>The grid's rows, one per key: the row holding each key's name cell.</summary>
    protected static IReadOnlyList<IElement> Rows(IRenderedComponent<IComponent> page) =>
        page.FindAll("[data-testid=key-name]").Select(name => name.Closest("tr")!).ToList();

    protected static void WaitForRows(IRenderedComponent<IComponent> page, int count) =>
        page.WaitForAssertion(() => Assert.Equal(count, Rows(page).Count), StoreWait);

    protected static IElement RowOf(IRenderedComponent<IComponent> page, string keyId) =>
        page.Find($"[data-testid=key-name][data-key-id='{keyId}']").Closest("tr")!;

    /// <summary>The value in <paramref name="row"/> under the column titled <paramref name="column"/>.</summary>
    protected static string Cell(IElement row, string column) =>
        row.QuerySelectorAll("td").Single(td => td.GetAttribute("data-label") == column).TextContent.Trim();

    /// <summary>The error MudBlazor shows under the input <paramref name="inputId"/>, if any.</summary>
    protected static string? MessageBeside(IRenderedComponent<IComponent> page, string inputId) =>
        page.Find(inputId).Closest(".mud-input-control")!.QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent.Trim();

    /// <summary>Every field error shown in the create form.</summary>
    protected static IReadOnlyList<IElement> FieldErrors(IRenderedComponent<IComponent> page) =>
        page.FindAll("[data-testid=create-key-form] .mud-input-helper-text.mud-input-error");

    /// <summary>The texts of the snackbars on screen.</summary>
    protected static IReadOnlyList<string> Snackbars(IRenderedComponent<IComponent> page) =>
        page.FindAll(".mud-snackbar").Select(s => s.TextContent.Trim()).ToList();

    protected Task<List<ApiKey>> KeysOfAsync(string userId) =>
        App.InStoreAsync(db => db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).ToListAsync());

    protected static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
