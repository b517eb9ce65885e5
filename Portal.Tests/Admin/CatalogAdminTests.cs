using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Admin;
using Portal.Audit;
using Portal.Catalog;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

public sealed class CatalogAdminTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private CatalogAdmin Catalog => _app.Service<CatalogAdmin>();

    private static ModelForm NewModel(string id = "qwen-3") => new()
    {
        Id = id,
        OwnedBy = "qwen",
        Aliases = "qwen/qwen-3",
        SupportsTools = true,
        MaxOutputTokens = "4096",
        ContextLength = "32000",
        InputPrice = "0.40",
        OutputPrice = "1.2",
    };

    [Fact]
    public async Task APriceChangeIsAuditedAndTheGatewayChargesItAtOnce()
    {
        var (adminId, caller) = await _app.CreateAdminCallerAsync();
        Assert.NotNull(await _app.Service<ModelCatalog>().FindAsync("glm-5")); // the gateway has a snapshot cached
        var form = (await Catalog.FormForAsync(caller, "glm-5"))!;
        Assert.Equal(("1.5", "5"), (form.InputPrice, form.OutputPrice));

        form.InputPrice = "2";
        form.OutputPrice = "6.123456";
        var result = await Catalog.SaveAsync(caller, form, isNew: false);

        Assert.Equal("Saved glm-5.", result.Done);
        var model = (await _app.Service<ModelCatalog>().FindAsync("zhipu/glm-5"))!;
        Assert.Equal((2_000_000, 6_123_456), (model.InputPriceMicros, model.OutputPriceMicros));
        var audit = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((adminId, AuditActions.ModelUpdate, "model:glm-5"), (audit.ActorId, audit.Action, audit.Target));
        var changed = JsonNode.Parse(audit.Details)!["changed"]!.AsObject();
        Assert.Equal(["inputUsdPer1M", "outputUsdPer1M"], changed.Select(p => p.Key).Order());
        Assert.Equal("""["1.5","2"]""", changed["inputUsdPer1M"]!.ToJsonString());
    }

    [Fact]
    public async Task ACachedInputPriceIsSavedAuditedAndClearedBackToTheInputPrice()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "glm-5"))!;
        Assert.Equal("", form.CachedInputPrice); // none yet: cached tokens cost the input price

        form.CachedInputPrice = "0.375";
        Assert.Equal("Saved glm-5.", (await Catalog.SaveAsync(caller, form, isNew: false)).Done);

        var model = (await _app.Service<ModelCatalog>().FindAsync("glm-5"))!;
        Assert.Equal((375_000L, 375_000L), (model.CachedInputPriceMicros, model.EffectiveCachedInputPriceMicros));
        Assert.Equal("0.375", (await Catalog.FormForAsync(caller, "glm-5"))!.CachedInputPrice);
        var changed = JsonNode.Parse((await _app.InStoreAsync(db => db.AuditEntries.SingleAsync())).Details)!["changed"]!.AsObject();
        Assert.Equal("""["same as input","0.375"]""", changed["cachedInputUsdPer1M"]!.ToJsonString());

        form.CachedInputPrice = " ";
        await Catalog.SaveAsync(caller, form, isNew: false);
        model = (await _app.Service<ModelCatalog>().FindAsync("glm-5"))!;
        Assert.Equal(((long?)null, 1_500_000L), (model.CachedInputPriceMicros, model.EffectiveCachedInputPriceMicros));
    }

    [Theory]
    [InlineData("1.50", "1.51", "cannot be above the input price")]
    [InlineData("1.50", "-0.1", "Enter a price in USD per 1M tokens")]
    [InlineData("1.50", "cheap", "Enter a price in USD per 1M tokens")]
    public async Task ACachedInputPriceAboveTheInputPriceOrNotAPriceIsRefused(string input, string cached, string message)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "glm-5"))!;
        (form.InputPrice, form.CachedInputPrice) = (input, cached);

        var result = await Catalog.SaveAsync(caller, form, isNew: false);

        Assert.Contains(message, result.ErrorFor(nameof(ModelForm.CachedInputPrice)));
        Assert.Null(await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.CachedInputPriceMicros).SingleAsync()));
        Assert.False(await _app.InStoreAsync(db => db.AuditEntries.AnyAsync()));
    }

    [Fact]
    public async Task MediaPartBoundsAreEditedAuditedAndHeldAtOnce()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "glm-5"))!;
        Assert.Equal(("4096", "100000", "100000", "100000"), (form.ImagePartTokens, form.FilePartTokens, form.AudioPartTokens, form.VideoPartTokens));

        form.ImagePartTokens = "0";
        form.VideoPartTokens = "lots";
        var refused = await Catalog.SaveAsync(caller, form, isNew: false);
        Assert.NotNull(refused.ErrorFor(nameof(ModelForm.ImagePartTokens)));
        Assert.NotNull(refused.ErrorFor(nameof(ModelForm.VideoPartTokens)));

        form.ImagePartTokens = "50,000";
        form.VideoPartTokens = "100000";
        Assert.Equal("Saved glm-5.", (await Catalog.SaveAsync(caller, form, isNew: false)).Done);
        Assert.Equal(50_000, (await _app.Service<ModelCatalog>().FindAsync("glm-5"))!.ImagePartTokens);
        var changed = JsonNode.Parse((await _app.InStoreAsync(db => db.AuditEntries.SingleAsync())).Details)!["changed"]!.AsObject();
        Assert.Equal("[4096,50000]", changed["imagePartTokens"]!.ToJsonString());

        // One image on a $0.05 account: 50,000 tokens at $1.50 per 1M is $0.075, more than it has.
        var account = await _app.CreateApiAccountAsync(credits: 0.05m);
        var response = await _app.ApiClient(account.Key).PostChatAsync("""
            {"model":"glm-5","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://img.example/a.png"}}]}]}
            """);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
    }

    [Fact]
    public async Task StructuredOutputsAreAModelCapabilityTheAdminSetsAuditedAndEnforcedAtOnce()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "kimi-k2"))!;
        Assert.True(form.SupportsStructuredOutputs);
        Assert.False((await Catalog.FormForAsync(caller, "deepseek-r1"))!.SupportsStructuredOutputs);
        var account = await _app.CreateApiAccountAsync();
        const string Body = """
            {"model":"kimi-k2","max_tokens":20,"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}}}
            """;
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(account.Key).PostChatAsync(Body)).StatusCode);

        form.SupportsStructuredOutputs = false;
        Assert.Equal("Saved kimi-k2.", (await Catalog.SaveAsync(caller, form, isNew: false)).Done);

        var changed = JsonNode.Parse((await _app.InStoreAsync(db => db.AuditEntries.SingleAsync())).Details)!["changed"]!.AsObject();
        Assert.Equal("[true,false]", changed["structuredOutputs"]!.ToJsonString());
        Assert.Contains(await Catalog.ListAsync(caller), m => m.Id == "kimi-k2" && !m.SupportsStructuredOutputs);
        await GatewayFixtures.AssertErrorAsync(await _app.ApiClient(account.Key).PostChatAsync(Body), 400, "unsupported_parameter", "response_format");
    }

    [Fact]
    public async Task SavingWithoutChangesWritesNoAuditEntry()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();

        var result = await Catalog.SaveAsync(caller, (await Catalog.FormForAsync(caller, "kimi-k2"))!, isNew: false);

        Assert.Equal("kimi-k2 had no changes to save.", result.Done);
        Assert.Equal(0, await _app.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Fact]
    public async Task ANewModelIsServedByTheGatewayAndAudited()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var account = await _app.CreateApiAccountAsync();

        Assert.Equal("Added qwen-3.", (await Catalog.SaveAsync(caller, NewModel(), isNew: true)).Done);

        var listed = JsonNode.Parse(await _app.ApiClient(account.Key).GetStringAsync("/api/v1/models/qwen/qwen-3"))!;
        Assert.Equal("qwen-3", listed["id"]!.GetValue<string>());
        var audit = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((AuditActions.ModelCreate, "model:qwen-3"), (audit.Action, audit.Target));
        Assert.Equal("0.4", JsonDocument.Parse(audit.Details).RootElement.GetProperty("inputUsdPer1M").GetString());
    }

    [Theory]
    [InlineData(nameof(ModelForm.InputPrice), "-1")]
    [InlineData(nameof(ModelForm.InputPrice), "")]
    [InlineData(nameof(ModelForm.InputPrice), "cheap")]
    [InlineData(nameof(ModelForm.OutputPrice), "1.0000005")]
    [InlineData(nameof(ModelForm.OutputPrice), "-0.01")]
    [InlineData(nameof(ModelForm.MaxOutputTokens), "0")]
    [InlineData(nameof(ModelForm.MaxOutputTokens), "-8")]
    [InlineData(nameof(ModelForm.MaxOutputTokens), "1.5")]
    [InlineData(nameof(ModelForm.MaxOutputTokens), "64000")]        // more than the context length
    [InlineData(nameof(ModelForm.ContextLength), "")]
    [InlineData(nameof(ModelForm.ContextLength), "99999999999")]
    [InlineData(nameof(ModelForm.Id), "bad id")]
    [InlineData(nameof(ModelForm.Id), "-leading-dash")]
    [InlineData(nameof(ModelForm.Id), "glm-5")]                      // taken
    [InlineData(nameof(ModelForm.Id), "ZHIPU/GLM-5")]                // an alias of glm-5 (and not a valid id either)
    [InlineData(nameof(ModelForm.Aliases), "zhipu/glm-5")]           // glm-5's alias
    [InlineData(nameof(ModelForm.Aliases), "Kimi-K2")]               // another model's id, any case
    [InlineData(nameof(ModelForm.Aliases), "a, b, A")]               // repeated
    [InlineData(nameof(ModelForm.Aliases), "has space?")]
    [InlineData(nameof(ModelForm.OwnedBy), " ")]
    [InlineData(nameof(ModelForm.AlwaysReasons), "true")]            // without Reasoning
    public async Task ABadModelIsRefusedFieldByFieldAndNothingIsSaved(string field, string value)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = NewModel();
        switch (field)
        {
            case nameof(ModelForm.AlwaysReasons): form.AlwaysReasons = true; break;
            default: typeof(ModelForm).GetProperty(field)!.SetValue(form, value); break;
        }

        var result = await Catalog.SaveAsync(caller, form, isNew: true);

        Assert.False(result.Succeeded);
        Assert.NotNull(result.ErrorFor(field));
        Assert.Equal(4, await _app.InStoreAsync(db => db.Models.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Fact]
    public async Task AnAliasAlreadyUsedByAnotherModelIsRefusedOnEditToo()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "kimi-k2"))!;
        form.Aliases += ", deepseek/deepseek-r1";

        var result = await Catalog.SaveAsync(caller, form, isNew: false);

        Assert.Equal("'deepseek/deepseek-r1' already names deepseek-r1; each alias may belong to one model only.", result.ErrorFor(nameof(ModelForm.Aliases)));
        Assert.Equal("moonshotai/kimi-k2", await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "kimi-k2").Select(m => m.Aliases).SingleAsync()));
    }

    [Fact]
    public async Task DisablingAModelTakesItOutOfTheGateway()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = (await Catalog.FormForAsync(caller, "deepseek-r1"))!;
        form.Enabled = false;

        Assert.True((await Catalog.SaveAsync(caller, form, isNew: false)).Succeeded);

        Assert.Null(await _app.Service<ModelCatalog>().FindAsync("deepseek-r1"));
        Assert.False((await Catalog.ListAsync(caller)).Single(m => m.Id == "deepseek-r1").Enabled);
    }
}
