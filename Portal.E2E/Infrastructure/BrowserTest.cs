using System.Runtime.CompilerServices;

namespace Portal.E2E.Infrastructure;

/// <summary>
/// Base of every browser test: opens pages in contexts of their own (closed after the test) and,
/// when a test fails, keeps a full-page screenshot of each open page and the server's log.
/// Concrete classes carry <c>[Collection(PortalCollection.Name)]</c> (xunit does not inherit it).
/// </summary>
public abstract class BrowserTest(PortalFixture portal, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Under the test output folder, which is git-ignored with the rest of bin/.</summary>
    public static readonly string ArtifactsFolder = Path.Combine(AppContext.BaseDirectory, "test-artifacts");

    private readonly List<IBrowserContext> _contexts = [];

    protected PortalFixture Portal { get; } = portal;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>A page in a fresh context (its own cookies), signed in as <paramref name="signedInAs"/> if given.</summary>
    protected async Task<IPage> NewPageAsync(Account? signedInAs = null, ViewportSize? viewport = null)
    {
        var context = await Portal.NewContextAsync(signedInAs, viewport);
        _contexts.Add(context);
        return await context.NewPageAsync();
    }

    /// <summary>Runs a test's steps; on failure saves what the browser showed, then rethrows.</summary>
    protected async Task RunAsync(Func<Task> steps, [CallerMemberName] string test = "")
    {
        try
        {
            await steps();
        }
        catch
        {
            await SaveFailureArtifactsAsync($"{GetType().Name}.{test}");
            throw;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Playwright's close has no timeout of its own, and Chromium has been seen never to answer it.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(20);

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            try
            {
                await context.CloseAsync().WaitAsync(CloseTimeout);
            }
            catch (TimeoutException)
            {
                // The test's steps are done and judged; a context that will not close must not hang the run.
                Output.WriteLine($"A browser context did not close within {CloseTimeout.TotalSeconds:0} s; left to the browser's own shutdown.");
            }
        }
    }

    private async Task SaveFailureArtifactsAsync(string name)
    {
        Directory.CreateDirectory(ArtifactsFolder);
        var pages = _contexts.SelectMany(c => c.Pages).Where(p => !p.IsClosed).ToList();
        for (var i = 0; i < pages.Count; i++)
        {
            var path = Path.Combine(ArtifactsFolder, pages.Count == 1 ? $"{name}.png" : $"{name}-{i + 1}.png");
            try
            {
                await pages[i].ScreenshotAsync(new() { Path = path, FullPage = true });
                Output.WriteLine($"Screenshot of {pages[i].Url}: {path}");
            }
            catch (PlaywrightException e)
            {
                // The test's own failure is what matters; a page that can't be captured must not hide it.
                Output.WriteLine($"No screenshot of {pages[i].Url}: {e.Message}");
            }
        }

        var log = Path.Combine(ArtifactsFolder, $"{name}.server.log");
        await File.WriteAllTextAsync(log, Portal.Server.Output);
        Output.WriteLine($"Server log: {log}");
    }
}
