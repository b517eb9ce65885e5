using System.Threading.Channels;

namespace Portal.RateLimits;

/// <summary>
/// The loop of the PostgreSQL limiters (ADR 28): what arrives while one round trip is out goes together
/// in the next, up to <see cref="MaxBatch"/>; when a round trip fails, every item of its batch is told so.
/// </summary>
internal sealed class RoundTripBatches<T> : IAsyncDisposable
{
    /// <summary>The most items one round trip decides; more wait for the next.</summary>
    private const int MaxBatch = 512;

    private readonly Channel<T> _items = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<List<T>, Task> _decide;
    private readonly Action<List<T>, Exception> _failed;
    private readonly Task _loop;
    private long _roundTrips;

    /// <param name="decide">Decides a batch in one round trip.</param>
    /// <param name="failed">Fails a batch whose round trip threw: the store is unreachable or refused the statement (ADR 19).</param>
    public RoundTripBatches(Func<List<T>, Task> decide, Action<List<T>, Exception> failed)
    {
        _decide = decide;
        _failed = failed;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>How many round trips were made so far (each decides a batch).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>Queues an item for the next round trip; false once disposed.</summary>
    public bool TryAdd(T item) => _items.Writer.TryWrite(item);

    private async Task LoopAsync()
    {
        var batch = new List<T>(MaxBatch);
        while (await _items.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _items.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            Interlocked.Increment(ref _roundTrips);
            try
            {
                await _decide(batch);
            }
            catch (Exception e)
            {
                _failed(batch, e);
            }

            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _items.Writer.TryComplete();
        await _loop;
    }
}
