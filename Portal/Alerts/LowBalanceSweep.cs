using Microsoft.Extensions.Options;

namespace Portal.Alerts;

/// <summary>Runs <see cref="LowBalanceAlerts.CheckAsync"/> every <see cref="AlertOptions.LowBalanceCheckSeconds"/> (ADR 26).</summary>
public sealed class LowBalanceSweep(LowBalanceAlerts alerts, IOptions<AlertOptions> options, ILogger<LowBalanceSweep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(options.Value.LowBalanceCheckSeconds);
        using var timer = new PeriodicTimer(every);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await alerts.CheckAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A store outage: the next pass finds the same users, nothing is lost.
                logger.LogWarning(e, "Checking low balances failed; trying again in {Every}", every);
            }
        }
    }
}
