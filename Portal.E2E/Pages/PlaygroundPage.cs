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

    public async Task AskAsync(string text)
    {
        await Prompt.FillAsync(text);
        await Send.ClickAsync();
    }
}
