using Bunit;
using Bunit.TestDoubles;

namespace Portal.Tests.Components;

/// <summary>
/// Shared set-up for bUnit tests: one <see cref="TestContext"/> per test (xunit creates the class
/// per test and disposes it), with test authorization in place — anonymous until a test says otherwise.
/// </summary>
public abstract class ComponentTestBase : TestContext
{
    protected ComponentTestBase()
    {
        Authorization = this.AddTestAuthorization();
    }

    protected TestAuthorizationContext Authorization { get; }

    protected void SignInAs(string userName, params string[] roles)
    {
        Authorization.SetAuthorized(userName);
        Authorization.SetRoles(roles);
    }
}
