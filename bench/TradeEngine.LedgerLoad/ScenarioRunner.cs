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

    /// <summary>
    /// Measures several operations from one caller each, in turns: <paramref name="rounds"/> rounds, each running every
    /// operation for a tenth of the count and time bounds. Their latencies are compared with one another, and this
    /// host's speed drifts by ±20% over tens of seconds (a shared VM): phases measured one after the other would compare
    /// the drift as much as the operations. The order rotates from round to round, so no operation always follows the
    /// same one (the work one leaves behind, such as the relay publishing (b)'s events, would always land on the same
    /// next one), and each slice starts after a pause in which such work settles. Returns each operation's pooled
    /// latencies, and for each round the ratio of the last operation's p50 to the first one's.
    /// </summary>
    public async Task<(IReadOnlyList<LoadResult> Results, IReadOnlyList<double> RoundRatios)> MeasureInTurnsAsync(
        IReadOnlyList<(string Name, Func<Task> Operation)> operations, int rounds)
    {
        var pooled = operations.Select(_ => new List<double>()).ToArray();
        var elapsed = new TimeSpan[operations.Count];
        var ratios = new List<double>(rounds);
        for (var round = 0; round < rounds; round++)
        {
            var p50s = new double[operations.Count];
            for (var turn = 0; turn < operations.Count; turn++)
            {
                var i = (round + turn) % operations.Count;
                await Task.Delay(SettleBetweenSlices);
                var latencies = new ConcurrentBag<double>();
                elapsed[i] += await RunCallersAsync(
                    operations[i].Operation, 1, Math.Max(1, maxOperations / rounds), maxDuration / rounds, latencies);
                var slice = new LoadResult(operations[i].Name, latencies.ToList(), TimeSpan.Zero);
                p50s[i] = slice.Percentile(50);
                pooled[i].AddRange(latencies);
            }

            ratios.Add(p50s[^1] / p50s[0]);
        }

        return (operations.Select((o, i) => new LoadResult(o.Name, pooled[i], elapsed[i])).ToList(), ratios);
    }

    private static readonly TimeSpan SettleBetweenSlices = TimeSpan.FromMilliseconds(200);

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
