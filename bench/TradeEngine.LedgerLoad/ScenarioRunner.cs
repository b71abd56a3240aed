using System.Collections.Concurrent;
using System.Diagnostics;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// Runs one operation from a fixed number of concurrent callers: first a warm-up at the same concurrency (so the JIT's
/// tiers, connection pools and HTTP/2 streams are settled), then the measured run, bounded in count and time.
/// </summary>
internal sealed class ScenarioRunner(int callers, int warmupOperations, int maxOperations, TimeSpan maxDuration)
{
    public async Task<LoadResult> RunAsync(string name, Func<Task> operation, Action? onMeasureStart = null)
    {
        await RunCallersAsync(operation, warmupOperations, TimeSpan.FromSeconds(10), null);
        onMeasureStart?.Invoke();
        var latencies = new ConcurrentBag<double>();
        var elapsed = await RunCallersAsync(operation, maxOperations, maxDuration, latencies);
        return new LoadResult(name, latencies.ToList(), elapsed);
    }

    private async Task<TimeSpan> RunCallersAsync(Func<Task> operation, int count, TimeSpan duration, ConcurrentBag<double>? latencies)
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
