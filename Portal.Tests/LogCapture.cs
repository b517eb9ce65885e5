using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Portal.Tests;

/// <summary>One log entry as a sink would store it: the message, its structured values, its scopes and exception.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values, IReadOnlyList<object?> Scopes, string? Exception)
{
    /// <summary>Everything a log sink could persist of this entry, as one string to search.</summary>
    public string AllText() =>
        string.Join("\n", new[] { Category, Message, Exception ?? "" }
            .Concat(Values.Select(v => $"{v.Key}={v.Value}"))
            .Concat(Scopes.Select(ScopeText)));

    public object? ScopeValue(string key) =>
        Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(s => s).FirstOrDefault(p => p.Key == key).Value;

    private static string ScopeText(object? scope) => scope switch
    {
        IEnumerable<KeyValuePair<string, object?>> pairs => string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) + ";" + scope,
        _ => scope?.ToString() ?? "",
    };
}

/// <summary>A logger provider that keeps every entry (with its scopes) for the test to read.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<object?>();
            capture._scopes.ForEachScope((scope, list) => list.Add(scope), scopes);
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            capture._entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), values.ToList(), scopes, exception?.ToString()));
        }
    }
}
