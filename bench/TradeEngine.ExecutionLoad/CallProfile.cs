using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace TradeEngine.ExecutionLoad;

/// <summary>
/// Times every activity of the in-process services: HTTP out (the venue), gRPC out and in, grouped by source and
/// operation (the URL's path only: a signed query is never printed).
/// </summary>
public sealed class CallProfile : IDisposable
{
    private readonly ActivityListener _listener;
    private ConcurrentDictionary<string, ConcurrentBag<double>> _calls = new(StringComparer.Ordinal);
    private ConcurrentBag<(string Trace, string Key, DateTime Start, double Ms)> _spans = [];

    public CallProfile()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "System.Net.Http" or "Microsoft.AspNetCore" or "Grpc.Net.Client" || s.Name.StartsWith("Npgsql", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                var key = Key(a);
                _calls.GetOrAdd(key, _ => []).Add(a.Duration.TotalMilliseconds);
                _spans.Add((a.TraceId.ToHexString(), key, a.StartTimeUtc, a.Duration.TotalMilliseconds));
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Reset()
    {
        _calls = new(StringComparer.Ordinal);
        _spans = [];
    }

    public void Print(TextWriter output, int roundTrips)
    {
        output.WriteLine($"calls per round trip (of {roundTrips}), by total time:");
        foreach (var (key, samples) in _calls.Select(kv => (kv.Key, kv.Value.ToArray())).OrderByDescending(kv => kv.Item2.Sum()))
        {
            Array.Sort(samples);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {key,-90} {samples.Length / (double)Math.Max(1, roundTrips),6:F2}/rt  p50={samples[samples.Length / 2],7:F3} ms  mean={samples.Average(),7:F3} ms  max={samples[^1],8:F1} ms"));
        }
    }

    /// <summary>The spans of the open whose server time is the median, in start order, as offsets from its start.</summary>
    public void PrintMedianTrace(TextWriter output, string operation)
    {
        var spans = _spans.ToArray();
        var roots = spans.Where(s => s.Key.Contains("Server", StringComparison.Ordinal) && s.Key.EndsWith(operation, StringComparison.Ordinal))
            .OrderBy(s => s.Ms).ToArray();
        if (roots.Length == 0)
        {
            return;
        }

        var root = roots[roots.Length / 2];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median {operation} trace ({root.Ms:F3} ms):"));
        foreach (var s in spans.Where(s => s.Trace == root.Trace && s.Key.Contains("Client", StringComparison.Ordinal)).OrderBy(s => s.Start))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  +{(s.Start - root.Start).TotalMilliseconds,7:F3} ms  {s.Ms,7:F3} ms  {s.Key}"));
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(Activity a)
    {
        var name = a.DisplayName;
        if (a.GetTagItem("url.full") is string url && Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            name = a.GetTagItem("http.request.method") + " " + uri.AbsolutePath;
        }

        return a.Source.Name + " " + a.Kind + " " + name;
    }
}
