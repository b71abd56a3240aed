using System.Collections.Concurrent;
using System.Diagnostics;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// Runs one operation from a number of concurrent callers, bounded in count and time. A warm-up runs first at full
/// concurrency for a fixed time: on a 2-core machine shared with PostgreSQL and RabbitMQ the JIT needs many seconds
/// to move the hot path from tier 0 through instrumented code to tier 1 (a 3,000-call warm-up measured the Ledger at
/// 450 µs CPU per write; after 20 s it is ~150 µs), and "sustained" throughput is the tier-1 figure.
/// </summary>
internal sealed class ScenarioRunner(int maxOperations, TimeSpan maxDuration)
{
    public async Task WarmUpAsync(Func<Task> operation, int callers, TimeSpan duration) =>
        await RunCallersAsync(operation, callers, int.MaxValue, duration, null);

    public async Task<LoadResult> MeasureAsync(string name, Func<Task> operation, int callers, Action? onMeasureStart = null)
    {
        onMeasureStart?.Invoke();
        var latencies = new ConcurrentBag<double>();
        var elapsed = await RunCallersAsync(operation, callers, maxOperations, maxDuration, latencies);
        return new LoadResult(name, latencies.ToList(), elapsed);
    }

    private static async Task<TimeSpan> RunCallersAsync(
        Func<Task> operation, int callers, int count, TimeSpan duration, ConcurrentBag<double>? latencies)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count && clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await operation();
                latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        return clock.Elapsed;
    }
}
