using Portal.Billing;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Catalog;
using Portal.Playground;
using Portal.Tests.Components;
using Portal.Usage;

namespace Portal.Tests.Playground;

/// <summary>The playground's pieces as a person uses them: pick a model, set parameters, edit a turn, view the code.</summary>
public sealed class PlaygroundComponentTests : ComponentTestBase
{
    private static readonly ModelInfo Glm = new()
    {
        Id = "glm-5", OwnedBy = "zhipu", SupportsTools = true, SupportsJsonMode = true, SupportsReasoning = true,
        MaxOutputTokens = 8192, InputPriceMicros = 1_500_000, OutputPriceMicros = 5_000_000,
    };

    private static readonly ModelInfo DeepSeek = new()
    {
        Id = "deepseek-r1", OwnedBy = "deepseek", SupportsReasoning = true, AlwaysReasons = true,
        MaxOutputTokens = 8192, InputPriceMicros = 1_750_000, OutputPriceMicros = 6_500_000,
    };

    private static readonly ModelInfo[] Models = [Glm, DeepSeek];

    [Fact]
    public void PickingAModelFromTheListChoosesItAndShowsWhatItSupports()
    {
        var chosen = "glm-5";
        var popovers = Render<MudPopoverProvider>();
        var picker = Render<ModelPicker>(p => p
            .Add(c => c.Models, Models)
            .Add(c => c.Value, chosen)
            .Add(c => c.ValueChanged, value => chosen = value));
        Assert.Contains("tools", picker.Find("[data-testid=model-facts]").TextContent);

        picker.Find(".mud-select .mud-input-control").MouseDown();
        popovers.WaitForAssertion(() => Assert.Equal(["glm-5", "deepseek-r1"], popovers.FindAll(".mud-list-item").Select(i => i.TextContent.Trim())));
        popovers.FindAll(".mud-list-item").Single(i => i.TextContent.Trim() == "deepseek-r1").Click();

        Assert.Equal("deepseek-r1", chosen);
        picker.Render(p => p.Add(c => c.Value, chosen));
        var facts = picker.Find("[data-testid=model-facts]").TextContent;
        Assert.Contains("$1.75 in / $6.50 out per 1M", facts);
        Assert.DoesNotContain("tools", facts);
    }

    [Fact]
    public void TurningThinkingOnOffersTheReasoningEffortAndTheNumbersReachTheRequest()
    {
        var session = new PlaygroundSession();
        Render<MudPopoverProvider>();
        var panel = Render<ParametersPanel>(p => p.Add(c => c.Settings, session.Settings).Add(c => c.Model, Glm));
        Assert.DoesNotContain("Reasoning effort", panel.Markup);

        panel.Find("input[data-testid=thinking]").Change(true);
        panel.Find(Labelled(panel, "Temperature")).Change("0.7");
        panel.Find(Labelled(panel, "Max tokens")).Change("300");

        Assert.True(session.Settings.Thinking);
        Assert.Contains("Reasoning effort", panel.Markup);
        var request = session.BuildRequest(Glm);
        Assert.Equal("enabled", request["thinking"]!["type"]!.GetValue<string>());
        Assert.Null(request["reasoning_effort"]); // "default" sends none
        Assert.Equal(0.7, request["temperature"]!.GetValue<double>());
        Assert.Equal(300, request["max_tokens"]!.GetValue<int>());
    }

    [Fact]
    public void AModelThatAlwaysReasonsCannotHaveThinkingTurnedOff()
    {
        var panel = Render<ParametersPanel>(p => p.Add(c => c.Settings, new PlaygroundSettings()).Add(c => c.Model, DeepSeek));

        var thinking = panel.Find("input[data-testid=thinking]");
        Assert.True(thinking.HasAttribute("disabled"));
        Assert.Contains("Always thinks before answering", thinking.Closest("label")!.TextContent);
        Assert.Contains("Reasoning effort", panel.Markup);
        Assert.DoesNotContain("JSON mode", panel.Markup);
    }

    [Fact]
    public void EditingAUserTurnCallsBackAndAStoppedReplySaysWhatWasCharged()
    {
        var edited = 0;
        var turn = Render<MessageView>(p => p
            .Add(c => c.Message, new PlaygroundMessage { Role = "user", Content = "Hello" })
            .Add(c => c.CanEdit, true)
            .Add(c => c.OnEdit, () => edited++));

        turn.FindAll("button").Single(b => b.TextContent.Trim() == "Edit").Click();

        Assert.Equal(1, edited);
        var reply = new PlaygroundMessage { Role = "assistant", Content = "Once upon", Stopped = true };
        reply.Record = new UsageRecord { RequestId = "r", UserId = "u", ModelId = "glm-5", Provenance = Provenance.Partial, Status = 499, PromptTokens = 5, CompletionTokens = 2, CostMicros = 17, LatencyMs = 40 };
        var view = Render<MessageView>(p => p.Add(c => c.Message, reply));
        var usage = view.Find("[data-testid=reply-usage]");
        Assert.Equal("5 in · 2 out · $0.000017 · 40 ms", usage.QuerySelector("span")!.TextContent);
        Assert.Equal("stopped — charged for what arrived", usage.QuerySelector(".mud-chip")!.TextContent.Trim());
        Assert.Empty(view.FindAll("button"));

        var failed = Render<MessageView>(p => p.Add(c => c.Message, new PlaygroundMessage { Role = "assistant", Error = "The API is switched off by an administrator." }));
        Assert.Equal("The API is switched off by an administrator.", failed.Find("[role=alert]").TextContent.Trim()); // announced
    }

    [Fact]
    public async Task TheCodeDialogShowsTheRequestInEachLanguageAndCopiesTheOneShown()
    {
        JSInterop.Setup<bool>("portal.copy", _ => true).SetResult(true);
        var dialogs = Render<MudDialogProvider>();
        var request = new PlaygroundSession { Settings = { Model = "glm-5" } };
        request.Messages.Add(new PlaygroundMessage { Role = "user", Content = "Hi" });
        var parameters = new DialogParameters<ViewCodeDialog> { { d => d.Request, request.BuildRequest(Glm) } };

        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<ViewCodeDialog>("This request as code", parameters));

        var dialog = dialogs.Find("[role=dialog]");
        Assert.Contains("This request as code", dialog.TextContent);
        Assert.StartsWith("curl http://localhost/api/v1/chat/completions", dialogs.Find("[data-testid=code-sample]").TextContent);
        dialogs.FindAll(".mud-tab").Single(t => t.TextContent.Trim() == "Python").Click();
        Assert.Contains("from openai import OpenAI", dialogs.Find("[data-testid=code-sample]").TextContent);
        Assert.Equal(["curl", "Python", "JavaScript", "C#"], dialogs.FindAll(".mud-tab").Select(t => t.TextContent.Trim()));

        // Another API: its own languages, the first one shown.
        dialogs.Find("[aria-label=API]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == "Messages").Click();
        Assert.Equal(["curl", "Python (Anthropic SDK)"], dialogs.FindAll(".mud-tab").Select(t => t.TextContent.Trim()));
        Assert.StartsWith("curl http://localhost/api/v1/messages", dialogs.Find("[data-testid=code-sample]").TextContent);
        dialogs.Find("[aria-label=API]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == "Chat Completions").Click();
        dialogs.FindAll(".mud-tab").Single(t => t.TextContent.Trim() == "Python").Click();

        dialogs.Find("[data-testid=copy-code]").Click();

        var copied = JSInterop.Invocations["portal.copy"].Single().Arguments.Single() as string;
        Assert.Contains("from openai import OpenAI", copied);
        Assert.Equal("Copied.", dialogs.Find("[role=status]").TextContent);
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Close").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[role=dialog]")));
    }

    /// <summary>The selector of the input a visible label names.</summary>
    private static string Labelled(IRenderedComponent<ParametersPanel> panel, string label) =>
        "#" + panel.FindAll("label").Single(l => l.TextContent.Trim() == label).GetAttribute("for");
}
