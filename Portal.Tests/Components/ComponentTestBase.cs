using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Portal.Account;

namespace Portal.Tests.Components;

/// <summary>
/// Shared set-up for bUnit tests: one <see cref="BunitContext"/> per test (xunit creates the class
/// per test) with MudBlazor's services, loose JS interop (MudBlazor calls into its own scripts, which
/// a test does not run) and test authorization — anonymous until a test says otherwise — read
/// through the app's <see cref="CurrentUser"/>, as pages read it. xunit 2
/// disposes test classes synchronously, which some component services refuse (they are only
/// <see cref="IAsyncDisposable"/>), so the context is disposed asynchronously here first.
/// </summary>
public abstract class ComponentTestBase : BunitContext, IAsyncLifetime
{
    protected ComponentTestBase()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Authorization = AddAuthorization();
        Services.AddOptions();
        Services.AddScoped<CurrentUser>();
    }

    protected BunitAuthorizationContext Authorization { get; }

    protected void SignInAs(string userName, params string[] roles)
    {
        Authorization.SetAuthorized(userName);
        Authorization.SetRoles(roles);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await DisposeFixturesAsync();
    }

    /// <summary>Disposes what a test class set up besides the bUnit context (e.g. its Portal host).</summary>
    protected virtual Task DisposeFixturesAsync() => Task.CompletedTask;
}
