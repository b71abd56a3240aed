using System.Globalization;

namespace TradeEngine.LedgerLoad;

/// <summary>Latencies (ms) of one scenario and its wall time.</summary>
public sealed record LoadResult(string Name, IReadOnlyList<double> LatenciesMs, TimeSpan Elapsed)
{
    public double Percentile(double p)
    {
        if (LatenciesMs.Count == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToList();
        var index = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    public double Throughput => LatenciesMs.Count / Elapsed.TotalSeconds;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-34} n={LatenciesMs.Count,6}  p50={Percentile(50),7:F3} ms  p99={Percentile(99),7:F3} ms  {Throughput,8:F0} ops/s");
}
