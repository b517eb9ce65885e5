using Microsoft.Extensions.Options;

namespace Portal.Data;

/// <summary>
/// One serving process per SQLite data folder (ADR 18). At start-up on SQLite every credit hold in the
/// file is taken to be its own dead requests' and released, so a second process — an overlapping
/// restart, a second copy started by mistake — would release the first one's live holds. The lock is
/// an exclusive lock on <see cref="FileName"/>, which the operating system drops when the process exits
/// however it exits (kill -9 too), so a stale lock file never blocks a start. A restart waits
/// <see cref="StoreOptions.LockWaitSeconds"/> for the old process to finish draining, then gives up
/// naming it. The admin CLI takes no lock: it runs beside a serving process and sweeps nothing.
/// </summary>
public sealed class DataFolderLock : IDisposable
{
    public const string FileName = "portal.lock";
    /// <summary>Who holds the lock, for the message a second process prints (the lock file itself cannot be read while held).</summary>
    public const string OwnerFileName = "portal.lock.owner";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly FileStream _file;

    private DataFolderLock(FileStream file) => _file = file;

    /// <exception cref="DataFolderInUseException">Another process still holds the folder after <paramref name="wait"/>.</exception>
    public static async Task<DataFolderLock> AcquireAsync(string folder, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        // Waiting for another process to exit is real time, whatever clock the app's logic reads.
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                // FileShare.None: an exclusive lock (flock on Linux and macOS, a share lock on Windows).
                var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                await File.WriteAllTextAsync(Path.Combine(folder, OwnerFileName),
                    $"pid {Environment.ProcessId} on {Environment.MachineName}, since {DateTimeOffset.UtcNow:u}", cancellationToken);
                return new DataFolderLock(file);
            }
            catch (IOException) when (TimeProvider.System.GetElapsedTime(started) < wait)
            {
                await Task.Delay(Poll, cancellationToken);
            }
            catch (IOException e)
            {
                var owner = File.Exists(Path.Combine(folder, OwnerFileName)) ? File.ReadAllText(Path.Combine(folder, OwnerFileName)).Trim() : "unknown";
                throw new DataFolderInUseException(
                    $"Another Portal process ({owner}) is serving the data folder {folder}: it holds {path}. " +
                    $"Two processes on one SQLite store would release each other's credit holds. Stop it first, " +
                    $"or let it finish (Store:LockWaitSeconds, now {wait.TotalSeconds:0} s, is how long a start waits).", e);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}

public sealed class DataFolderInUseException(string message, Exception inner) : Exception(message, inner);

public static class DataFolderLockExtensions
{
    /// <summary>Takes the data folder's lock on SQLite; null on PostgreSQL, where instances share the store by design.</summary>
    public static async Task<DataFolderLock?> LockDataFolderAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        return options.Provider == StoreProvider.Sqlite
            ? await DataFolderLock.AcquireAsync(StoreExtensions.DataFolderPath(options, services.GetRequiredService<IHostEnvironment>()),
                TimeSpan.FromSeconds(options.LockWaitSeconds), cancellationToken)
            : null;
    }
}
