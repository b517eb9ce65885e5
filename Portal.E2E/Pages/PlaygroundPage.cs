namespace Portal.E2E.Pages;

public sealed class PlaygroundPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/playground";

    protected override bool IsInteractive => true;

    public ILocator Prompt => Page.GetByTestId("prompt");
    public ILocator Send => Page.GetByTestId("send");
    public ILocator Stop => Page.GetByTestId("stop");
    public ILocator Balance => Page.GetByTestId("balance");
    public ILocator LastReply => Page.GetByTestId("message-assistant").Last;
    public ILocator LastReplyText => LastReply.GetByTestId("reply-text");
    public ILocator LastReplyUsage => LastReply.GetByTestId("reply-usage");
    public ILocator LastReplyError => LastReply.GetByTestId("reply-error");

    public ILocator Model => Page.GetByRole(AriaRole.Combobox, new() { Name = "Model" });
    public ILocator MaxTokens => Page.GetByLabel("Max tokens");
    public ILocator Thinking => Page.GetByRole(AriaRole.Switch, new() { Name = "Thinking" });
    public ILocator ViewCode => Page.GetByRole(AriaRole.Button, new() { Name = "View code" });

    /// <summary>The "View code" dialog, a MudDialog with a choice of API and a tab per language.</summary>
    public ILocator CodeDialog => Page.GetByRole(AriaRole.Dialog, new() { Name = "This request as code" });
    public ILocator CodeSample => CodeDialog.GetByTestId("code-sample");
    /// <summary>The API the dialog shows the request for (a MudToggleGroup above the language tabs).</summary>
    public ILocator CodeApi(string api) => CodeDialog.GetByRole(AriaRole.Group, new() { Name = "API" }).GetByRole(AriaRole.Checkbox, new() { Name = api, Exact = true }); // MudToggleItem: role checkbox
    public ILocator CodeTab(string language) => CodeDialog.GetByRole(AriaRole.Tab, new() { Name = language, Exact = true });

    /// <summary>Opens the model list (a MudSelect) and picks <paramref name="id"/>.</summary>
    public async Task ChooseModelAsync(string id)
    {
        await Model.ClickAsync();
        await Page.GetByRole(AriaRole.Option, new() { Name = id, Exact = true }).ClickAsync();
        await Expect(Model).ToHaveTextAsync(id);
    }

    public async Task AskAsync(string text)
    {
        await Prompt.FillAsync(text);
        await Send.ClickAsync();
    }
}
