using System.Diagnostics;
using System.Diagnostics.Tracing;

/// <summary>
/// Loaded by the runtime before Main when named in DOTNET_STARTUP_HOOKS (bench/tiering.sh): writes to
/// "$TIERLOG.&lt;pid&gt;", one line per event with the milliseconds since the hook started, each method's first
/// use (jitted, with its tier, or ReadyToRun code found), the tiering delay's pauses and resumes, and the
/// background compiler's batches. The runtime's own events, read in-process: no tracing tool to install.
/// </summary>
internal static class StartupHook
{
    private static TieringListener? listener;

    public static void Initialize() =>
        listener = new TieringListener($"{Environment.GetEnvironmentVariable("TIERLOG") ?? "tierlog"}.{Environment.ProcessId}");
}

internal sealed class TieringListener(string path) : EventListener
{
    private const EventKeywords Jit = (EventKeywords)0x10;
    private const EventKeywords TieredCompilation = (EventKeywords)0x1000000000;
    private const EventKeywords CompilationDiagnostic = (EventKeywords)0x2000000000;

    private readonly StreamWriter _writer = new(path) { AutoFlush = true };
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, Jit | TieredCompilation | CompilationDiagnostic);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var line = e.EventName switch
        {
            // MethodFlags bits 7-9: the code's tier (3 quick JIT, 4 tier 1, 2 fully optimised, 1 minimum optimisation).
            "MethodLoadVerbose_V1" or "MethodLoadVerbose_V2" => $"jit tier{(Convert.ToUInt32(Field(e, "MethodFlags")) >> 7) & 7} {Name(e)}",
            "R2RGetEntryPoint" => $"r2r {Name(e)}",
            "TieredCompilationPause" => "pause",
            "TieredCompilationResume" => $"resume {Field(e, "NewMethodCount")}",
            "TieredCompilationBackgroundJitStop" => $"background {Field(e, "JittedMethodCount")} {Field(e, "PendingMethodCount")}",
            _ => null,
        };
        if (line is not null)
        {
            lock (_writer)
            {
                _writer.WriteLine($"{_clock.ElapsedMilliseconds} {line}");
            }
        }
    }

    private static object? Field(EventWrittenEventArgs e, string name) => e.Payload![e.PayloadNames!.IndexOf(name)];

    private static string Name(EventWrittenEventArgs e) => $"{Field(e, "MethodNamespace")}::{Field(e, "MethodName")}";
}
