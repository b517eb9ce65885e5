namespace Portal.Data;

/// <summary>A value read from the store, and when: fresh while it is younger than its reader's max age.</summary>
public sealed record Loaded<T>(T Value, DateTimeOffset At)
{
    public bool IsFreshAt(DateTimeOffset now, TimeSpan maxAge) => now - At < maxAge;
}

/// <summary>
/// A value read from the store and kept for at most <c>maxAge</c>: what any instance writes reaches
/// every instance within that time, without a query per read. One load at a time: readers that
/// find the value stale while a load runs wait for it instead of starting their own. A fresh read
/// takes no lock and allocates nothing.
/// </summary>
public sealed class StoreSnapshot<T>(TimeProvider time, TimeSpan maxAge, Func<CancellationToken, Task<T>> load)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile Loaded<T>? _current;

    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default) =>
        _current is { } current && current.IsFreshAt(time.GetUtcNow(), maxAge)
            ? ValueTask.FromResult(current.Value)
            : new ValueTask<T>(ReloadAsync(cancellationToken));

    /// <summary>Drops the value, so the next read sees the store (after a write on this instance).</summary>
    public void Invalidate() => _current = null;

    private async Task<T> ReloadAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (_current is { } current && current.IsFreshAt(now, maxAge))
            {
                return current.Value; // loaded by the reader this one waited for
            }

            var value = await load(cancellationToken);
            _current = new Loaded<T>(value, now);
            return value;
        }
        finally
        {
            _loading.Release();
        }
    }
}
