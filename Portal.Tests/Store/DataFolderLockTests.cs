using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Data;
using Portal.Tests.Docs;
using Portal.Tests.Gateway;

namespace Portal.Tests.Store;

/// <summary>One serving process per SQLite data folder: a second one would release the first one's live holds at its start (ADR 18).</summary>
public sealed class DataFolderLockTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ASecondPortalOnTheSameDataFolderExitsNamingTheFirstAndReleasesNothing()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        Assert.Equal(HoldOutcome.Held, await _app.Services.GetRequiredService<LedgerWriter>().TryHoldAsync(account.UserId, account.KeyId, "req_live", 5_000));

        var second = await ExternalCommand.RunAsync("dotnet", [typeof(Program).Assembly.Location], _app.DataFolder, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Store__Provider"] = "Sqlite",
            ["Store__DataFolder"] = _app.DataFolder,
            ["Store__LockWaitSeconds"] = "1",
        }, timeout: TimeSpan.FromSeconds(60));

        Assert.True(second.ExitCode == 4, second.ToString());
        Assert.Contains($"pid {Environment.ProcessId}", second.Stderr);
        Assert.Contains(DataFolderLock.FileName, second.Stderr);
        Assert.Equal(5_000, (await _app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
    }
}
