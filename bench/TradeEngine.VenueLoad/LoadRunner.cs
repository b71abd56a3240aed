using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using TradeEngine.Binance.Signing;

namespace TradeEngine.VenueLoad;

internal sealed record LoadResult(string Target, int Requests, int Errors, TimeSpan Elapsed, double P50Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public double Throughput => Requests / Elapsed.TotalSeconds;
}

/// <summary>Closed-loop load: C workers each send a signed POST /fapi/v1/order, wait for the answer, repeat.</summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string name, Uri target, string apiKey, string secret, LoadOptions options, long clockOffsetMs)
    {
        if (!IPAddress.IsLoopback(IPAddress.Parse(target.Host)))
        {
            throw new InvalidOperationException("the load tool only targets 127.0.0.1");
        }

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(10) };
        var secretBytes = Encoding.UTF8.GetBytes(secret);

        await Phase(http, apiKey, secretBytes, options.Warmup, options.Concurrency, TimeSpan.FromSeconds(10), clockOffsetMs, "warm", null).ConfigureAwait(false);
        var latencies = new long[options.Requests];
        var watch = Stopwatch.StartNew();
        var (count, errors) = await Phase(http, apiKey, secretBytes, options.Requests, options.Concurrency, options.Duration, clockOffsetMs, "load", latencies).ConfigureAwait(false);
        watch.Stop();
        var measured = latencies.AsSpan(0, count).ToArray();
        Array.Sort(measured);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double Pct(double p) => measured.Length == 0 ? double.NaN : Ms(measured[Math.Min(measured.Length - 1, (int)(p * measured.Length))]);
        return new LoadResult(name, count, errors, watch.Elapsed, Pct(0.50), Pct(0.99), Pct(0.999), measured.Length == 0 ? double.NaN : Ms(measured[^1]));
    }

    private static async Task<(int Count, int Errors)> Phase(
        HttpClient http, string apiKey, byte[] secret, int total, int concurrency, TimeSpan limit, long clockOffsetMs, string prefix, long[]? latencies)
    {
        var next = -1;
        var errors = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var completed = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total)
                {
                    return;
                }

                // Alternate sides so the simulated position stays small; 0.002 BTC ≈ 120 USDT clears MIN_NOTIONAL 100.
                var side = (i & 1) == 0 ? "BUY" : "SELL";
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + clockOffsetMs;
                var query = string.Create(CultureInfo.InvariantCulture,
                    $"symbol=BTCUSDT&side={side}&type=MARKET&quantity=0.002&newClientOrderId={prefix}-{i}&recvWindow=5000&timestamp={timestamp}");
                var body = query + "&signature=" + BinanceSigner.Sign(secret, query);
                using var request = new HttpRequestMessage(HttpMethod.Post, "fapi/v1/order")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
                };
                request.Headers.TryAddWithoutValidation("X-MBX-APIKEY", apiKey);
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(request).ConfigureAwait(false);
                    var content = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                    if (response.StatusCode != HttpStatusCode.OK && Interlocked.Increment(ref errors) == 1)
                    {
                        Console.Error.WriteLine($"{prefix}: first error HTTP {(int)response.StatusCode} {Encoding.UTF8.GetString(content)}");
                    }
                }
                catch (HttpRequestException e)
                {
                    if (Interlocked.Increment(ref errors) == 1)
                    {
                        Console.Error.WriteLine($"{prefix}: first error {e.Message}");
                    }
                }

                var elapsed = Stopwatch.GetTimestamp() - start;
                var slot = Interlocked.Increment(ref completed) - 1;
                if (latencies is not null && slot < latencies.Length)
                {
                    latencies[slot] = elapsed;
                }
            }
        }).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return (Math.Min(completed, total), errors);
    }
}
