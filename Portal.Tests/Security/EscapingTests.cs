using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Playground;
using Portal.Tests.Components;
using Portal.Tests.Gateway;

namespace Portal.Tests.Security;

/// <summary>
/// Text a user or admin typed, shown back: in emails, key names, model ids and chat content,
/// markup must arrive as text. Each payload must be absent from the raw HTML as markup and present
/// in what the reader sees.
/// </summary>
public sealed class EscapingTests : IDisposable
{
    private const string Password = "correct horse battery";
    internal const string ScriptTag = "<script>alert('x')</script>";
    internal const string ImgBreakout = "\"><img src=x onerror=alert(1)>";

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AHostileEmailIsRefusedAndEchoedAsText()
    {
        // Identity allows only letters, digits and -._@+ in user names (the email here), so no
        // account can carry markup; the refusal quotes it back, escaped.
        using var browser = _app.CreateBrowser();

        var page = await (await browser.SignUpAsync($"{ScriptTag}{ImgBreakout}@evil.test", Password)).PageAsync();

        AssertShownAsText(page, ScriptTag, ImgBreakout);
        Assert.Equal(0, _app.CountUsers());
    }

    [Fact]
    public async Task AHostileModelIdIsShownAsText()
    {
        // Admin forms validate ids; this one comes straight from the store, as if they hadn't.
        await _app.InStoreAsync(async db =>
        {
            db.Models.Add(new CatalogModel { Id = ScriptTag + ImgBreakout, OwnedBy = ImgBreakout, MaxOutputTokens = 10, ContextLength = 100, InputPriceMicros = 1, OutputPriceMicros = 1 });
            return await db.SaveChangesAsync();
        });
        _app.Services.GetRequiredService<ModelCatalog>().Invalidate();
        await _app.CreateUserAsync("admin@example.com", Password, admin: true);
        using var admin = await _app.SignedInBrowserAsync("admin@example.com", Password);

        AssertShownAsText(await admin.GetPageAsync("/"), ScriptTag, ImgBreakout);
        AssertShownAsText(await admin.GetPageAsync("/docs/models"), ScriptTag, ImgBreakout);
        AssertShownAsText(await admin.GetPageAsync("/admin/models"), ScriptTag, ImgBreakout);
        // The API returns it verbatim, as JSON that no browser sniffs into HTML.
        var response = await _app.ApiClient((await _app.CreateApiAccountAsync()).Key).GetAsync("/api/v1/models");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var ids = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>());
        Assert.Contains(ScriptTag + ImgBreakout, ids);
    }

    /// <summary>
    /// Parsed as a browser would: the payloads opened no element and no event-handler attribute, and
    /// the reader sees them as text.
    /// </summary>
    internal static void AssertShownAsText(string html, params string[] payloads)
    {
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(html);
        Assert.Empty(document.QuerySelectorAll("img[src=x], script:not([src])"));
        Assert.DoesNotContain(document.All, element => element.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        Assert.All(payloads, payload => Assert.Contains(payload, document.Body!.TextContent));
    }
}

public sealed class PlaygroundEscapingTests : ComponentTestBase
{
    [Fact]
    public void ChatContentReasoningToolCallsAndErrorsRenderAsText()
    {
        var reply = new PlaygroundMessage { Role = "assistant", Error = "<b onmouseover=alert(3)>upstream said</b>" };
        reply.Append(new ChatDelta
        {
            Content = "<script>alert('content')</script>",
            ReasoningContent = "\"><img src=x onerror=alert('reasoning')>",
            ToolCalls = [new ToolCallDelta { Index = 0, Function = new FunctionCallDelta { Name = "<svg onload=alert(1)>", Arguments = "{\"a\":\"</code><script>x</script>\"}" } }],
        });

        var view = Render<MessageView>(p => p.Add(m => m.Message, reply));

        // The only svg is the error alert's own icon; none came from the text.
        Assert.Empty(view.FindAll("script, img, b, svg:not(.mud-icon-root)"));
        Assert.DoesNotContain(view.FindAll("*"), element => element.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains("<script>alert('content')</script>", view.Find("[data-testid=reply-text]").TextContent);
        Assert.Contains("<svg onload=alert(1)>", view.Find(".msg-tool").TextContent);
        Assert.Contains("<b onmouseover=alert(3)>", view.Find("[data-testid=reply-error]").TextContent);
        Assert.DoesNotContain("onerror=alert('reasoning')>", view.Markup.Replace("onerror=alert(&#x27;reasoning&#x27;)&gt;", "", StringComparison.Ordinal));
    }
}

/// <summary>Key names come back in the list, the revoke question and its outcome (rendered over the circuit).</summary>
public sealed class KeyNameEscapingTests : Portal.Tests.ApiKeys.ApiKeysPageTestBase
{
    [Fact]
    public async Task HostileKeyNamesAreShownAsText()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey(EscapingTests.ScriptTag));
        await KeyService.CreateAsync(user.Id, new NewApiKey(EscapingTests.ImgBreakout));
        var page = RenderPageAs(user);
        WaitForRows(page, 2);

        EscapingTests.AssertShownAsText(page.Markup, EscapingTests.ScriptTag, EscapingTests.ImgBreakout);

        page.FindAll("button").First(b => b.TextContent.Trim() == "Revoke").Click();
        var question = page.Find("[role=dialog]");
        Assert.Empty(question.QuerySelectorAll("img, script"));
        Assert.Contains("Revoke “", question.TextContent);
        Button(page, "Revoke key").Click();
        page.WaitForAssertion(() => Assert.Contains(Snackbars(page), s => s.StartsWith("Revoked", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        EscapingTests.AssertShownAsText(page.Markup, EscapingTests.ScriptTag, EscapingTests.ImgBreakout);
    }
}
