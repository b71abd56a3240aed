using Microsoft.Extensions.Logging;

namespace TradeEngine.Testing.Logging;

/// <summary>
/// Captures, as text with its level, every log line at Warning and above of the service it is added to (as an
/// <see cref="ILoggerProvider"/> singleton): what a test asserts a service said, or never said.
/// </summary>
public sealed class ListLoggerProvider : ILoggerProvider, ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    /// <summary>A copy of what was logged so far, in order.</summary>
    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>
    /// A refused kill-switch reset's trail: a warning naming <paramref name="operatorName"/> and the loopback peer was
    /// logged, and none of <paramref name="keys"/> appears in any line logged or in the refusal (its detail and message).
    /// </summary>
    public void AssertRefusalWarnedWithoutKeys(Grpc.Core.RpcException refused, string operatorName, params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(refused);
        ArgumentNullException.ThrowIfNull(keys);
        var entries = Entries;
        Xunit.Assert.Contains(entries, e => e.Level == LogLevel.Warning && e.Message.Contains(operatorName, StringComparison.Ordinal)
                                            && e.Message.Contains("127.0.0.1", StringComparison.Ordinal));
        foreach (var text in entries.Select(e => e.Message).Append(refused.Status.Detail).Append(refused.Message))
        {
            foreach (var key in keys)
            {
                Xunit.Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception) + exception));
        }
    }

    public void Dispose()
    {
    }
}
