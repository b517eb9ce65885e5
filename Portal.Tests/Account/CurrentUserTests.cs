using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Tests.Components;

namespace Portal.Tests.Account;

/// <summary>Which claim says who is signed in: the one rule every page, the admin guard and the CSV export use.</summary>
public sealed class CurrentUserTests : ComponentTestBase
{
    [Fact]
    public async Task TheIdIsIdentitysUserIdClaimNotTheNameOrAnotherId()
    {
        // As Identity's cookie has it: the email as the name, the id in its own claim.
        SignInAs("ada@example.test");
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, "user-ada"), new Claim("sub", "someone-else"));

        Assert.Equal("user-ada", await Services.GetRequiredService<CurrentUser>().GetIdAsync());
    }

    [Fact]
    public async Task TheIdFollowsTheClaimIdentityIsConfiguredToWrite()
    {
        Services.Configure<IdentityOptions>(options => options.ClaimsIdentity.UserIdClaimType = "uid");
        SignInAs("ada@example.test");
        Authorization.SetClaims(new Claim("uid", "user-ada"), new Claim(ClaimTypes.NameIdentifier, "someone-else"));

        Assert.Equal("user-ada", await Services.GetRequiredService<CurrentUser>().GetIdAsync());
    }

    [Fact]
    public async Task AVisitorHasNoIdEvenWithTheClaim()
    {
        var current = Services.GetRequiredService<CurrentUser>();
        var unauthenticated = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "user-ada")]));

        Assert.Null(await current.GetIdAsync());
        Assert.Null(current.IdOf(unauthenticated));
    }

    [Fact]
    public void ASignedInUserWithoutTheClaimHasNoId()
    {
        var nameOnly = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "ada@example.test")], "cookie"));

        Assert.Null(Services.GetRequiredService<CurrentUser>().IdOf(nameOnly));
    }
}
