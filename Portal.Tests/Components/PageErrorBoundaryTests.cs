using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Components.Layout;

namespace Portal.Tests.Components;

/// <summary>A page that fails shows a message in the layout, and the app (the circuit) lives on.</summary>
public sealed class PageErrorBoundaryTests : ComponentTestBase
{
    public PageErrorBoundaryTests() => SetRendererInfo(new RendererInfo("Server", isInteractive: true));

    [Fact]
    public void APageThatFailsToLoadShowsAMessageInsideTheLayout()
    {
        var store = new FlakyStore { Down = true };

        var layout = RenderLayoutWith(store);

        Assert.Contains("Something went wrong on this page", ErrorMessage(layout));
        Assert.Null(PageText(layout));
        // The layout around it still works: the navigation is there to leave by.
        Assert.NotEmpty(layout.FindAll("a[href='/docs']"));
    }

    [Fact]
    public void APageThatFailsBecauseTheStoreIsDownSaysToTryAgainShortly()
    {
        // What Npgsql throws when PostgreSQL, restarting, ends the session.
        var store = new FlakyStore { Down = true, Failure = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01") };

        var layout = RenderLayoutWith(store);

        Assert.Contains("can't reach its database right now", ErrorMessage(layout));
        Assert.Contains("try again shortly", ErrorMessage(layout));
        Assert.DoesNotContain("Something went wrong", ErrorMessage(layout));
        Assert.NotEmpty(layout.FindAll("a[href='/docs']"));
    }

    [Fact]
    public void AFailedActionShowsTheMessageAndTheNextPageRendersAgain()
    {
        var store = new FlakyStore();
        var layout = RenderLayoutWith(store);
        Assert.Equal("Loaded 1 time", PageText(layout));

        store.Down = true;
        layout.Find("[data-testid=page-action]").Click();

        Assert.NotNull(ErrorMessage(layout));
        store.Down = false;
        Services.GetRequiredService<NavigationManager>().NavigateTo("/dashboard");
        layout.WaitForAssertion(() => Assert.Equal("Loaded 2 times", PageText(layout)));
        Assert.Null(ErrorMessage(layout));
    }

    [Fact]
    public void WithoutANavigationTheMessageStays()
    {
        var store = new FlakyStore { Down = true };
        var layout = RenderLayoutWith(store);

        store.Down = false;
        layout.Render();

        Assert.NotNull(ErrorMessage(layout));
    }

    private IRenderedComponent<MainLayout> RenderLayoutWith(FlakyStore store) =>
        Render<MainLayout>(p => p.Add(l => l.Body, body =>
        {
            body.OpenComponent<StorePage>(0);
            body.AddComponentParameter(1, nameof(StorePage.Store), store);
            body.CloseComponent();
        }));

    private static string? ErrorMessage(IRenderedComponent<MainLayout> layout) =>
        layout.FindAll("[data-testid=page-error]").SingleOrDefault()?.TextContent;

    private static string? PageText(IRenderedComponent<MainLayout> layout) =>
        layout.FindAll("[data-testid=page-content]").SingleOrDefault()?.TextContent;

    private sealed class FlakyStore
    {
        public bool Down { get; set; }

        public Exception Failure { get; init; } = new InvalidOperationException("The store is unreachable.");

        public int Loads { get; private set; }

        public void Use()
        {
            if (Down)
            {
                throw Failure;
            }

            Loads++;
        }
    }

    /// <summary>A page that reads the store when it loads and when its button is pressed.</summary>
    private sealed class StorePage : ComponentBase
    {
        [Parameter, EditorRequired]
        public required FlakyStore Store { get; set; }

        protected override void OnInitialized() => Store.Use();

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "p");
            builder.AddAttribute(1, "data-testid", "page-content");
            builder.AddContent(2, Store.Loads == 1 ? "Loaded 1 time" : $"Loaded {Store.Loads} times");
            builder.CloseElement();
            builder.OpenElement(3, "button");
            builder.AddAttribute(4, "data-testid", "page-action");
            builder.AddAttribute(5, "onclick", EventCallback.Factory.Create<MouseEventArgs>(this, Store.Use));
            builder.CloseElement();
        }
    }
}
