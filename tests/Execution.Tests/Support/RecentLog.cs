using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// The last warnings and errors of a stack's services, each with its service and category, for a test's failure message:
/// dotnet test shows no service's console output, so a test that times out would otherwise say nothing of why.
/// </summary>
public sealed class RecentLog
{
    private const int Kept = 40;
    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>A provider for one service of the stack (added to its services as an <see cref="ILoggerProvider"/>).</summary>
    public ILoggerProvider For(string service) => new Provider(this, service);

    /// <summary>Whether a line kept so far contains <paramref name="text"/>.</summary>
    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>How many lines kept so far contain <paramref name="text"/>.</summary>
    public int Count(string text) => _lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    public override string ToString() => _lines.IsEmpty ? "(none)" : string.Join(Environment.NewLine, _lines);

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > Kept && _lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Provider(RecentLog log, string service) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, service + " " + categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(RecentLog log, string source) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {source}: {formatter(state, exception)}" +
                        (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})"));
            }
        }
    }
}
