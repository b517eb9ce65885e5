using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Observability;

namespace Portal.Billing;

/// <summary>One settlement as the journal keeps it: what to write, and when it was decided.</summary>
public sealed record JournaledSettlement(Settlement Settlement, UsageRecord Record, DateTime At);

/// <summary>
/// The settlement outbox (ADR 18): an append-only file of JSON lines in the data folder. It holds
/// settlements whose write to the store failed, until <see cref="SettlementRetry"/> commits them. A
/// normal settlement never touches it. (The progress of long streams, kept here before, is kept in the
/// store since ADR 20; a journal from before that is still read for it.) Lines are written through to the OS, which keeps them across a kill -9 of the process;
/// only with <see cref="StoreOptions.SqliteSyncCommits"/> are they forced to the disk, as the ledger's
/// commits are (ADR 6). Start-up reads it back before the stale-hold sweep.
/// </summary>
public sealed class SettlementJournal
{
    public const string FileName = "settlements.journal";
    public const string DeadLetterFileName = "settlements.dead";

    private const string Settle = "settle";
    private const string Progress = "progress";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Lock _gate = new();
    private readonly bool _fsync;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<SettlementJournal> _logger;
    // In the order they were journaled: replayed in that order.
    private readonly Dictionary<string, JournaledSettlement> _pending = [];
    // Progress a process left in a journal written before progress moved to the store (ADR 20):
    // evidence for the start-up sweep, until it has settled them.
    private readonly Dictionary<string, JournaledSettlement> _orphaned = [];
    private int _lines;
    private bool _loaded;

    public SettlementJournal(IOptions<StoreOptions> store, IHostEnvironment environment, GatewayMetrics metrics, ILogger<SettlementJournal> logger)
    {
        var folder = StoreExtensions.DataFolderPath(store.Value, environment);
        Directory.CreateDirectory(folder);
        FilePath = Path.Combine(folder, FileName);
        DeadLetterPath = Path.Combine(folder, DeadLetterFileName);
        _fsync = store.Value.SqliteSyncCommits;
        _metrics = metrics;
        _logger = logger;
    }

    public string FilePath { get; }

    /// <summary>Settlements the store refused again and again: kept here for the operator, never retried.</summary>
    public string DeadLetterPath { get; }

    /// <summary>Settlements waiting for the store, oldest first.</summary>
    public IReadOnlyList<JournaledSettlement> Pending
    {
        get
        {
            lock (_gate)
            {
                return [.. _pending.Values];
            }
        }
    }

    public bool IsPending(string requestId)
    {
        lock (_gate)
        {
            return _pending.ContainsKey(requestId);
        }
    }

    /// <summary>Keeps a settlement whose write failed, on disk, before its caller is told it stands.</summary>
    public void Add(Settlement settlement, UsageRecord record, DateTime at)
    {
        var entry = new JournaledSettlement(settlement, record, at);
        lock (_gate)
        {
            Append(Settle, entry);
            _pending[settlement.RequestId] = entry;
        }

        _metrics.SettlementJournaled();
        _logger.LogWarning("The settlement of request {RequestId} could not be written to the store; it is kept in {File} and retried", settlement.RequestId, FilePath);
    }

    /// <summary>
    /// The last progress a previous process recorded for a request, in a journal written before stream
    /// progress moved to the store (ADR 20): still evidence for the start-up sweep after an upgrade.
    /// </summary>
    public JournaledSettlement? ProgressOf(string requestId)
    {
        lock (_gate)
        {
            return _orphaned.GetValueOrDefault(requestId);
        }
    }

    /// <summary>Requests a dead process recorded progress for, not settled yet.</summary>
    public IReadOnlyList<string> OrphanedRequests()
    {
        lock (_gate)
        {
            return [.. _orphaned.Keys];
        }
    }

    /// <summary>Settled in the store (by a retry, the sweep or an earlier run): dropped from the journal.</summary>
    public void Forget(IReadOnlyCollection<string> requestIds)
    {
        lock (_gate)
        {
            var changed = false;
            foreach (var id in requestIds)
            {
                changed |= _pending.Remove(id) | _orphaned.Remove(id);
            }

            if (changed)
            {
                Rewrite();
            }
        }
    }

    /// <summary>A settlement the store refuses for good: moved to the dead-letter file, said loudly, counted.</summary>
    public void DeadLetter(JournaledSettlement entry, Exception error)
    {
        var id = entry.Settlement.RequestId;
        lock (_gate)
        {
            var line = JsonSerializer.Serialize(new DeadLine(entry, error.GetType().Name + ": " + error.Message), Json) + "\n";
            File.AppendAllText(DeadLetterPath, line, Encoding.UTF8);
            _pending.Remove(id);
            Rewrite();
        }

        _metrics.SettlementDead();
        _logger.LogCritical(error, "The store refuses the settlement of request {RequestId} (user {UserId}, hold {Hold} µ$, charge {Charge} µ$); it is moved to {File} and its hold stays until an operator settles it",
            id, entry.Settlement.UserId, entry.Settlement.HoldMicros, entry.Settlement.ChargeMicros, DeadLetterPath);
    }

    private void Append(string type, JournaledSettlement entry)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Line(type, entry), Json) + "\n");
        using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
        file.Write(line);
        file.Flush(flushToDisk: _fsync);
        _lines++;
    }

    /// <summary>The file as the state in memory says, written aside and renamed over the old one; no file when there is nothing to keep.</summary>
    private void Rewrite()
    {
        var entries = _pending.Values.Select(e => new Line(Settle, e))
            .Concat(_orphaned.Values.Select(e => new Line(Progress, e)))
            .ToList();
        if (entries.Count == 0)
        {
            File.Delete(FilePath);
            _lines = 0;
            return;
        }

        var aside = FilePath + ".new";
        using (var file = new FileStream(aside, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            foreach (var entry in entries)
            {
                file.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, Json) + "\n"));
            }

            file.Flush(flushToDisk: _fsync);
        }

        File.Move(aside, FilePath, overwrite: true);
        _lines = entries.Count;
    }

    /// <summary>
    /// Reads what a previous run left, once, at the serving process's start-up (before its sweep).
    /// Not on construction: the admin CLI, running beside a server, must not rewrite the server's file.
    /// </summary>
    public void Load()
    {
        lock (_gate)
        {
            if (_loaded)
            {
                return;
            }

            _loaded = true;
            if (File.Exists(FilePath))
            {
                LoadFile();
            }
        }
    }

    private void LoadFile()
    {

        var number = 0;
        foreach (var text in File.ReadLines(FilePath))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            Line? line;
            try
            {
                line = JsonSerializer.Deserialize<Line>(text, Json);
            }
            catch (JsonException e)
            {
                // A process killed mid-write leaves its last line cut short: that one write is lost, the rest stands.
                _logger.LogWarning(e, "Line {Line} of {File} is unreadable and skipped", number, FilePath);
                continue;
            }

            if (line?.Entry is not { } entry)
            {
                continue;
            }

            var id = entry.Settlement.RequestId;
            if (line.Type == Settle)
            {
                _pending[id] = entry;
                _orphaned.Remove(id);
            }
            else if (line.Type == Progress && !_pending.ContainsKey(id))
            {
                _orphaned[id] = entry;
            }
        }

        _logger.LogWarning("{File} holds {Pending} settlements to write and the progress of {Orphaned} requests a previous run left",
            FilePath, _pending.Count, _orphaned.Count);
        // Also ends a line a kill cut short, so the next append starts on a line of its own.
        Rewrite();
    }

    private sealed record Line(string Type, JournaledSettlement Entry);

    private sealed record DeadLine(JournaledSettlement Entry, string Error);
}
