using Microsoft.Extensions.DependencyInjection;
using Portal.Status;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.Status;

/// <summary>The API switch: off, every /api/v1 route answers 503 within a second; on again, it serves.</summary>
public sealed class ApiSwitchTests
{
    [Fact]
    public async Task SwitchedOffApiAnswers503WithinOneSecond()
    {
        await using var app = new PortalApplication();
        var client = app.ApiClient((await app.CreateApiAccountAsync()).Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);

        var cli = await app.RunCliAsync("api", "--off");
        Assert.Equal(0, cli.ExitCode);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        await AssertErrorAsync(await client.GetAsync("/api/v1/models"), 503, "service_unavailable");

        await app.Services.GetRequiredService<ApiSwitch>().SetAsync(true);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);
    }
}
