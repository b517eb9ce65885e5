using Bunit;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

/// <summary>The model and upstream editors as an admin uses them.</summary>
public sealed class EditorComponentTests : AdminComponentTestBase
{
    private const string Secret = "sk-upstream-SECRET-0123456789abcdef";

    private IRenderedComponent<ModelEditor> RenderModelEditor(ModelForm form, bool isNew, Action<string>? saved = null) =>
        Render<ModelEditor>(p => p
            .Add(e => e.Form, form)
            .Add(e => e.IsNew, isNew)
            .Add(e => e.OnSaved, saved ?? (_ => { }))
            .Add(e => e.OnCancel, () => { }));

    private IRenderedComponent<UpstreamEditor> RenderUpstreamEditor(UpstreamForm form, bool hasKey, Action<string>? saved = null) =>
        Render<UpstreamEditor>(p => p
            .Add(e => e.Form, form)
            .Add(e => e.HasKey, hasKey)
            .Add(e => e.OnSaved, saved ?? (_ => { }))
            .Add(e => e.OnCancel, () => { }));

    [Fact]
    public async Task ABadPriceIsShownBesideItsFieldAndNothingIsSaved()
    {
        var caller = await App.GuardFor((await SignInAsAdminAsync()).Id).RequireAdminAsync();
        var editor = RenderModelEditor((await App.Service<CatalogAdmin>().FormForAsync(caller, "glm-5"))!, isNew: false);

        editor.Find("#model-input-price").Change("-2");
        editor.Find("#model-output-price").Change("1.23456789");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.StartsWith("Enter a price in USD per 1M tokens, 0 or more", editor.Find("#model-input-price-error").TextContent), Wait);
        Assert.StartsWith("Enter a price in USD per 1M tokens", editor.Find("#model-output-price-error").TextContent);
        Assert.Equal("true", editor.Find("#model-input-price").GetAttribute("aria-invalid"));
        Assert.Equal(Money.FromUsd(1.5m), await App.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.InputPriceMicros).SingleAsync()));
    }

    [Fact]
    public async Task ACachedInputPriceAboveTheInputPriceIsShownBesideItsFieldAndAFairOneIsSaved()
    {
        var caller = await App.GuardFor((await SignInAsAdminAsync()).Id).RequireAdminAsync();
        var editor = RenderModelEditor((await App.Service<CatalogAdmin>().FormForAsync(caller, "glm-5"))!, isNew: false);

        editor.Find("#model-cached-input-price").Change("1.60");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.Equal("The cached-input price cannot be above the input price: cached tokens are a discount on input.",
            editor.Find("#model-cached-input-price-error").TextContent), Wait);
        editor.Find("#model-cached-input-price").Change("0.30");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.Empty(editor.FindAll("#model-cached-input-price-error")), Wait);
        Assert.Equal(Money.FromUsd(0.30m), await App.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.CachedInputPriceMicros).SingleAsync()));
    }

    [Fact]
    public async Task ADuplicateAliasIsRefusedOnANewModel()
    {
        await SignInAsAdminAsync();
        var editor = RenderModelEditor(new ModelForm(), isNew: true);

        editor.Find("#model-id").Change("glm-5-mini");
        editor.Find("#model-owner").Change("zhipu");
        editor.Find("#model-aliases").Change("zhipu/glm-5-mini, ZHIPU/GLM-5");
        editor.Find("#model-input-price").Change("0.5");
        editor.Find("#model-output-price").Change("1");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.Equal("'ZHIPU/GLM-5' already names glm-5; each alias may belong to one model only.", editor.Find("#model-aliases-error").TextContent), Wait);
        Assert.Equal(4, await App.InStoreAsync(db => db.Models.CountAsync()));
    }

    [Fact]
    public async Task ANewModelIsAddedFromTheEditor()
    {
        await SignInAsAdminAsync();
        string? saved = null;
        var editor = RenderModelEditor(new ModelForm(), isNew: true, m => saved = m);

        editor.Find("#model-id").Change("qwen-3");
        editor.Find("#model-owner").Change("qwen");
        editor.Find("#model-input-price").Change("0.4");
        editor.Find("#model-output-price").Change("1.2");
        editor.Find("input[type=checkbox]").Change(true); // tools
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.Equal("Added qwen-3.", saved), Wait);
        var model = await App.InStoreAsync(db => db.Models.SingleAsync(m => m.Id == "qwen-3"));
        Assert.Equal((true, 400_000L, 1_200_000L, 8192), (model.SupportsTools, model.InputPriceMicros, model.OutputPriceMicros, model.MaxOutputTokens));
    }

    [Fact]
    public async Task TheUpstreamKeyIsNeverInTheMarkupAfterSaveAndDecryptsForUse()
    {
        var admin = await SignInAsAdminAsync();
        string? saved = null;
        var form = new UpstreamForm { ModelId = "glm-5" };
        var editor = RenderUpstreamEditor(form, hasKey: false, m => saved = m);
        Assert.Equal("No key is set. Stored encrypted; never shown again.", editor.Find("#upstream-key-helper-text").TextContent);
        Assert.Contains("at least 600 s", editor.Find("#upstream-timeout-helper-text").TextContent); // Gateway:NonStreamingReplySeconds, ADR 8

        editor.Find("#upstream-url").Change("https://api.provider.test/v1");
        editor.Find("#upstream-model").Change("glm-5-0425");
        editor.Find("#upstream-key").Change(Secret);
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.NotNull(saved), Wait);
        Assert.DoesNotContain(Secret, editor.Markup);
        Assert.Equal("", form.ApiKey);
        var stored = await App.InStoreAsync(db => db.ModelUpstreams.SingleAsync());
        Assert.Equal(Secret, App.Service<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose).Unprotect(stored.ProtectedApiKey!));

        // Editing it again: the form says a key is set, and shows nothing of it.
        var caller = await App.GuardFor(admin.Id).RequireAdminAsync();
        var again = RenderUpstreamEditor((await App.Service<UpstreamAdmin>().FormForAsync(caller, stored.Id))!, hasKey: true);
        Assert.Equal("A key is set. Leave this empty to keep it.", again.Find("#upstream-key-helper-text").TextContent);
        Assert.DoesNotContain(Secret, again.Markup);
        Assert.DoesNotContain(stored.ProtectedApiKey!, again.Markup);
        Assert.Equal("", again.Find("#upstream-key").GetAttribute("value") ?? "");
    }

    [Fact]
    public async Task ABadUrlIsShownAndTheTypedKeyIsNotKeptOnThePage()
    {
        await SignInAsAdminAsync();
        var editor = RenderUpstreamEditor(new UpstreamForm { ModelId = "glm-5" }, hasKey: false);

        editor.Find("#upstream-url").Change("https://user:pass@api.provider.test/v1");
        editor.Find("#upstream-model").Change("glm-5");
        editor.Find("#upstream-key").Change(Secret);
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.Equal("The base URL must not contain a user name, password, query or fragment; put the key in the API key field.",
            editor.Find("#upstream-url-error").TextContent), Wait);
        Assert.DoesNotContain(Secret, editor.Markup);
        Assert.StartsWith("Enter the key again", editor.Find("#upstream-key-helper-text").TextContent);
        Assert.Equal(0, await App.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
    }

    [Fact]
    public async Task TheMessagesEndpointIsRefusedWithItsOwnErrorWhenBadAndSavedWhenGood()
    {
        await SignInAsAdminAsync();
        string? saved = null;
        var editor = RenderUpstreamEditor(new UpstreamForm { ModelId = "glm-5" }, hasKey: false, m => saved = m);

        editor.Find("#upstream-url").Change("https://api.provider.test/v1");
        editor.Find("#upstream-model").Change("glm-5");
        editor.Find("#upstream-messages-url").Change("api.provider.test/anthropic");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.StartsWith("Enter the provider's http(s) Anthropic Messages base URL",
            editor.Find("#upstream-messages-url-error").TextContent), Wait);
        Assert.Empty(editor.FindAll("#upstream-url-error"));
        Assert.Equal(0, await App.InStoreAsync(db => db.ModelUpstreams.CountAsync()));

        editor.Find("#upstream-messages-url").Change("https://api.provider.test/anthropic/");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.NotNull(saved), Wait);
        Assert.Equal("https://api.provider.test/anthropic", (await App.InStoreAsync(db => db.ModelUpstreams.SingleAsync())).MessagesBaseUrl);
    }

    [Fact]
    public async Task TheModelsPageListsTheCatalogAndOpensTheEditor()
    {
        await SignInAsAdminAsync();

        var page = Render<ModelsPage>();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("tbody tr").Count), Wait);
        var glm5 = page.Find("td[data-model='glm-5']").ParentElement!;
        Assert.Contains("zhipu/glm-5", glm5.TextContent);
        Assert.Contains("$1.50", glm5.TextContent);
        Assert.Contains("simulated", glm5.TextContent);
        Assert.Contains("text only", page.Find("td[data-model='deepseek-r1']").ParentElement!.TextContent.Replace("JSON mode · always reasons", "text only"));

        page.Find("button[aria-label='Edit glm-5']").Click();
        page.WaitForAssertion(() => Assert.Equal("Edit glm-5", page.Find("#model-editor-title").TextContent), Wait);
        Assert.Equal("1.5", page.Find("#model-input-price").GetAttribute("value"));
    }

    [Fact]
    public async Task TheUpstreamsPageListsWithoutKeysAndRemovesOnlyAfterConfirmation()
    {
        var admin = await SignInAsAdminAsync();
        var caller = await App.GuardFor(admin.Id).RequireAdminAsync();
        await App.Service<UpstreamAdmin>().SaveAsync(caller, new UpstreamForm { ModelId = "deepseek-r1", BaseUrl = "https://api.deepseek.test/v1", UpstreamModel = "deepseek-reasoner", ApiKey = Secret });

        var page = Render<UpstreamsPage>(); // no ?model= : the first model, deepseek-r1

        page.WaitForAssertion(() => Assert.Single(page.FindAll("td[data-upstream]")), Wait);
        var row = page.Find("td[data-upstream]").ParentElement!;
        Assert.Contains("https://api.deepseek.test/v1", row.TextContent);
        Assert.Contains("key set", row.TextContent);
        Assert.DoesNotContain(Secret, page.Markup);

        page.Find("button[aria-label^='Remove upstream']").Click();
        Answer("Remove upstream", "Keep");
        Assert.Single(page.FindAll("td[data-upstream]"));
        Assert.Equal(1, await App.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
        page.Find("button[aria-label^='Remove upstream']").Click();
        Answer("(https://api.deepseek.test/v1) of deepseek-r1?", "Yes, remove");

        Snackbars.WaitForAssertion(() => Assert.StartsWith("Removed upstream", Snackbars.Find(".mud-snackbar-content-message").TextContent.Trim()), Wait);
        page.WaitForAssertion(() => Assert.Contains("has no upstreams: the simulated upstream answers its requests.", page.Find(".empty").TextContent), Wait);
        Assert.Equal(0, await App.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
    }

    [Fact]
    public async Task DisablingAModelAsksFirstAndKeepsItServingIfTheAdminCancels()
    {
        var caller = await App.GuardFor((await SignInAsAdminAsync()).Id).RequireAdminAsync();
        string? saved = null;
        var editor = RenderModelEditor((await App.Service<CatalogAdmin>().FormForAsync(caller, "glm-5"))!, isNew: false, m => saved = m);

        editor.FindAll("input[type=checkbox]").Last().Change(false); // Enabled
        editor.Find("form").Submit();
        Answer("Disable glm-5? From the next second on, clients asking for it or its aliases get 404 model_not_found", "Cancel");

        Assert.Null(saved);
        Assert.True(await App.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.Enabled).SingleAsync()));

        editor.Find("form").Submit();
        Answer("Disable glm-5?", "Disable glm-5");

        editor.WaitForAssertion(() => Assert.NotNull(saved), Wait);
        Assert.False(await App.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.Enabled).SingleAsync()));
    }

    [Fact]
    public async Task SavingAnEnabledModelAsksNothing()
    {
        var caller = await App.GuardFor((await SignInAsAdminAsync()).Id).RequireAdminAsync();
        string? saved = null;
        var editor = RenderModelEditor((await App.Service<CatalogAdmin>().FormForAsync(caller, "glm-5"))!, isNew: false, m => saved = m);

        editor.Find("#model-input-price").Change("2");
        editor.Find("form").Submit();

        editor.WaitForAssertion(() => Assert.NotNull(saved), Wait);
        Assert.Empty(Dialogs.FindAll(".mud-dialog"));
        Assert.Equal(Money.FromUsd(2m), await App.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.InputPriceMicros).SingleAsync()));
    }
}
