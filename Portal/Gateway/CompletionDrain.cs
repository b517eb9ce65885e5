using Microsoft.Extensions.Options;

namespace Portal.Gateway;

/// <summary>
/// Graceful shutdown for completions. From the moment the host starts stopping (SIGTERM),
/// no new completion starts (503) and those running get <see cref="GatewayOptions.ShutdownGraceSeconds"/>
/// to finish; past that, <see cref="GraceOver"/> fires and they settle what was delivered. Stopping
/// waits for them, so the process exits with no hold left behind. The grace period starts with the
/// stop signal, not with this service's turn to stop: the web server, stopped first, waits for these
/// same requests to end.
/// </summary>
public sealed class CompletionDrain(IHostApplicationLifetime lifetime, TimeProvider time, IOptions<GatewayOptions> options, ILogger<CompletionDrain> logger)
    : IHostedService, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private readonly CancellationTokenSource _graceOver = new();
    private CancellationTokenRegistration _onStopping;
    private ITimer? _graceTimer;
    private int _running;

    /// <summary>Fires when running completions must stop and settle.</summary>
    public CancellationToken GraceOver => _graceOver.Token;

    public int Running => Volatile.Read(ref _running);

    /// <summary>Counts a completion in, unless the host is stopping; pair a true with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        // Count first, then look: a completion that slips in as stopping begins is either seen by
        // the drain's count or backs out here.
        Interlocked.Increment(ref _running);
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            Exit();
            return false;
        }

        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _running);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds);
        _onStopping = lifetime.ApplicationStopping.Register(() =>
            _graceTimer = time.CreateTimer(_ => _graceOver.Cancel(), null, grace, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Running > 0)
        {
            logger.LogInformation("Shutting down: {Count} completions running, {Grace} s to finish", Running, options.Value.ShutdownGraceSeconds);
        }

        // Bounded by the host's shutdown timeout, which AddGateway sets above the grace period.
        while (Running > 0 && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(PollInterval, time, CancellationToken.None);
        }

        if (Running > 0)
        {
            logger.LogError("Shutting down with {Count} completions unsettled; start-up will release their holds", Running);
        }
    }

    public void Dispose()
    {
        _onStopping.Dispose();
        _graceTimer?.Dispose();
        _graceOver.Dispose();
    }
}
