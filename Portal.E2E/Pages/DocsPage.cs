namespace Portal.E2E.Pages;

/// <summary>
/// A page of the docs (<c>/docs</c> or <c>/docs/{slug}</c>): prerendered whole, so readable before (or
/// without) its circuit, then interactive like the rest of Portal.
/// </summary>
public sealed class DocsPage(IPage page, string slug = "") : BasePage(page)
{
    public override string PagePath => slug.Length == 0 ? "/docs" : $"/docs/{slug}";

    protected override bool IsInteractive => true;

    public ILocator Title => Page.Locator("article.docs-article h1");

    public ILocator Nav => Page.GetByRole(AriaRole.Navigation, new() { Name = "Documentation" });

    public ILocator NavLink(string name) => Nav.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    /// <summary>On narrow screens the page list folds behind this toggle (a checkbox: it works without a circuit).</summary>
    public ILocator MenuToggle => Nav.GetByRole(AriaRole.Checkbox, new() { Name = "Docs menu" });

    public ILocator CodeBlocks => Page.Locator("article .code-block");

    /// <summary>A code block's one button: "Copy", then "Copied" for a moment after a click.</summary>
    public static ILocator CopyButton(ILocator codeBlock) => codeBlock.GetByRole(AriaRole.Button);

    public ILocator ModelRows => Page.GetByTestId("model-price-table").Locator("tbody tr");

    public ILocator HeadingAnchor(string sectionId) => Page.Locator($"#{sectionId} a.heading-anchor");

    /// <summary>The copy buttons work once wwwroot/docs.js has run; a click before that does nothing.</summary>
    public Task WaitUntilCopyReadyAsync() => Page.WaitForFunctionAsync("() => window.portalDocsCopyReady === true");

    public async Task OpenFromNavAsync(string name)
    {
        await NavLink(name).ClickAsync();
        await Expect(Nav.Locator("a[aria-current=page]")).ToHaveTextAsync(name);
    }
}
