using System.Diagnostics;
using System.Globalization;

namespace TradeEngine.RiskLoad;

/// <summary>Result of one phase: per-call latencies and the throughput of all callers together.</summary>
public sealed record PhaseResult(string Name, int Calls, TimeSpan Elapsed, double P50Microseconds, double P99Microseconds)
{
    public double CallsPerSecond => Calls / Elapsed.TotalSeconds;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Name,-14} calls {Calls,8}  p50 {P50Microseconds,8:F0} us  p99 {P99Microseconds,8:F0} us  {CallsPerSecond,9:F0} calls/s");
}

/// <summary>Runs <c>callers</c> concurrent loops of one call until a call count or a time limit, whichever comes first.</summary>
public static class LoadRunner
{
    public static async Task<PhaseResult> RunAsync(string name, Func<Task> call, int callers, int maxCalls, TimeSpan maxTime)
    {
        var latencies = new long[maxCalls];
        var next = -1;
        var deadline = Stopwatch.GetTimestamp() + (long)(maxTime.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var loops = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var slot = Interlocked.Increment(ref next);
                if (slot >= maxCalls || Stopwatch.GetTimestamp() > deadline)
                {
                    return;
                }

                var t0 = Stopwatch.GetTimestamp();
                await call().ConfigureAwait(false);
                latencies[slot] = Stopwatch.GetTimestamp() - t0;
            }
        })).ToArray();
        await Task.WhenAll(loops).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var done = latencies.Where(l => l > 0).Order().ToArray();
        return new PhaseResult(name, done.Length, elapsed, Percentile(done, 0.50), Percentile(done, 0.99));
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))] * 1_000_000.0 / Stopwatch.Frequency;
}
