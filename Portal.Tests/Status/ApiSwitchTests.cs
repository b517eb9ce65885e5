using Microsoft.Extensions.DependencyInjection;
using Portal.Status;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.Status;

/// <summary>The API switch: off, every /api/v1 route answers 503 within a second; on again, it serves.</summary>
public sealed class ApiSwitchTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task SwitchedOffApiAnswers503WithinOneSecond()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);

        var cli = await _app.RunCliAsync("api", "--off");
        Assert.Equal(0, cli.ExitCode);
        _app.Time.Advance(TimeSpan.FromSeconds(1));
        await AssertErrorAsync(await client.GetAsync("/api/v1/models"), 503, "service_unavailable");

        await _app.Services.GetRequiredService<ApiSwitch>().SetAsync(true);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);
    }
}
