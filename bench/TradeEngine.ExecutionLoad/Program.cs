using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.Services;
using TradeEngine.Execution.V1;
using TradeEngine.ExecutionLoad;
using TradeEngine.Funding.Services;
using TradeEngine.Ledger.Services;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.Risk.Services;
using TradeEngine.Testing.Servers;

// Usage: dotnet run -c Release --project bench/TradeEngine.ExecutionLoad [-- --clients 8 --round-trips 200 --warmup 20]
// --warmup is the least number of seconds of full load before anything is measured. The warm-up then goes on until the
// JIT is quiet (under 2% of one core over the last 5 s, at most 180 s in all): five services' hot paths take that long
// to reach tier 1 on a 2-core machine, and how long differs between machines. On one, after a fixed 20 s the JIT's
// background thread still took a quarter of the CPU, and the open p50 measured 34 ms; quiet, 21 ms.
// Bounded: every client stops after its round trips, and the whole run after 10 minutes.
var clients = Arg("--clients", 8);
// --profile: every outbound HTTP and gRPC call and every server call in the process, timed, grouped and counted per
// round trip (it costs a little CPU, so figures from a profiled run are not the headline ones).
using var profile = args.Contains("--profile") ? new CallProfile() : null;
var roundTrips = Arg("--round-trips", 200);
var warmup = Arg("--warmup", 20);
var maxWarmup = TimeSpan.FromSeconds(Math.Max(warmup, 180));
using var runLimit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
LoopbackHosts.UseContentRootsFromManifest();

await using var postgres = new PostgresServer();
await using var rabbit = new RabbitMqServer();
await postgres.StartAsync(runLimit.Token);
await rabbit.StartAsync(runLimit.Token);
var quiet = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Error" };
const string key = "load-paper-key-FAKE";
const string secret = "load-paper-secret-FAKE-0123456789";

await using var paper = new LoopbackHost<PaperEngine>(FreePort.Next(), HttpProtocols.Http1, With(quiet, new()
{
    ["Paper:ApiKey"] = key, ["Paper:ApiSecret"] = secret, ["Paper:SlippageBps"] = "0", ["Paper:TakerFeeRate"] = "0", ["Paper:MakerFeeRate"] = "0",
    ["Paper:StartingBalance"] = "1000000",
    // The venue's request-weight and order-rate limits (which the client keeps under) would pace the run, not Execution.
    ["Paper:RequestWeightLimitPerMinute"] = "10000000", ["Paper:OrderLimitPerMinute"] = "10000000", ["Paper:OrderLimitPer10Seconds"] = "10000000",
}, Markets.Select(m => new KeyValuePair<string, string?>($"Paper:Markets:{m.Symbol}:Volatility", "0")).ToDictionary()));
await paper.StartAsync();
var venue = new Dictionary<string, string?> { ["Binance:BaseUrl"] = paper.Address.ToString(), ["Binance:ApiKey"] = key, ["Binance:ApiSecret"] = secret };

await using var ledger = new LoopbackHost<LedgerGrpcService>(FreePort.Next(), HttpProtocols.Http2, With(quiet, new()
{
    ["ConnectionStrings:ledgerdb"] = await postgres.CreateDatabaseAsync(cancellationToken: runLimit.Token),
    ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
}));
await ledger.StartAsync();
await using var funding = new LoopbackHost<FundingGrpcService>(FreePort.Next(), HttpProtocols.Http2, With(quiet, venue, new()
{
    ["services:ledger:http:0"] = ledger.Address.ToString(), ["Funding:Accrual:Enabled"] = "false",
}));
await funding.StartAsync();
await using var risk = new LoopbackHost<RiskGrpcService>(FreePort.Next(), HttpProtocols.Http2, With(quiet, venue, new()
{
    ["services:ledger:http:0"] = ledger.Address.ToString(), ["services:funding:http:0"] = funding.Address.ToString(),
    ["ConnectionStrings:eventbus"] = rabbit.ConnectionString, ["Risk:MarginMonitor:Enabled"] = "false",
}));
await risk.StartAsync();
await using var execution = new LoopbackHost<ExecutionGrpcService>(FreePort.Next(), HttpProtocols.Http2, With(quiet, venue, new()
{
    ["services:ledger:http:0"] = ledger.Address.ToString(), ["services:funding:http:0"] = funding.Address.ToString(),
    ["services:risk:http:0"] = risk.Address.ToString(), ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
}));
await execution.StartAsync();
var reconciliation = execution.Services.GetRequiredService<ReconciliationState>();
while (!reconciliation.IsReady)
{
    await Task.Delay(50, runLimit.Token);
}

using var channel = TradeEngine.Testing.Hosting.TestServiceKey.Channel(execution.Address, LoopbackHost<ExecutionGrpcService>.ServiceKey);
var client = new ExecutionService.ExecutionServiceClient(channel);
var health = new Health.HealthClient(channel);

// Distinct symbols only: two clients on one symbol would add to each other's position. More clients than the
// simulator's symbols are capped (and the cap is printed).
var active = Math.Min(clients, Markets.Length);
Console.WriteLine($"Execution load: {active} concurrent client(s) on distinct symbols (asked for {clients}; the venue lists {Markets.Length}), {roundTrips} round trips each after at least {warmup} s of warm-up and until the JIT is quiet");

var idleCalls = new List<double>();
var emptyCalls = new List<double>();
var opens = new List<double>();
var closes = new List<double>();
var trips = new List<double>();
// The empty unary call, on the same channel and server, in the same run: sequential with nothing else running (the
// "idle" row, reported apart), then beside the load at a bounded pace (one call every 2 ms), so it measures the
// transport under the same load without starving the load of CPU. Only the calls beside the measured round trips are
// the baseline the ratios use.
for (var n = 0; n < 2_000; n++)
{
    var t = Stopwatch.GetTimestamp();
    await health.CheckAsync(new HealthCheckRequest());
    idleCalls.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
}

using var stopEmpty = new CancellationTokenSource();
var emptyTask = Task.Run(async () =>
{
    while (!stopEmpty.IsCancellationRequested)
    {
        var t = Stopwatch.GetTimestamp();
        await health.CheckAsync(new HealthCheckRequest());
        if (Phase.Measuring)
        {
            lock (emptyCalls)
            {
                emptyCalls.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }

        await Task.Delay(2);
    }
});

var wall = Stopwatch.StartNew();
var measuredStart = TimeSpan.Zero;
CpuMeter? cpu = null;
// The warm-up ends for every client at once, when the JIT has gone quiet (or at the cap, which is printed).
var warmupTask = Task.Run(async () =>
{
    var window = TimeSpan.FromSeconds(5);
    var before = JitInfo.GetCompilationTime();
    while (true)
    {
        await Task.Delay(window, runLimit.Token);
        var now = JitInfo.GetCompilationTime();
        var share = (now - before) / window;
        before = now;
        if (wall.Elapsed >= TimeSpan.FromSeconds(warmup) && (share < 0.02 || wall.Elapsed >= maxWarmup))
        {
            Phase.JitAtStart = (JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up: {wall.Elapsed.TotalSeconds:F0} s; the JIT took {share:P1} of one core in its last 5 s{(share < 0.02 ? "" : " (still busy: the cap ended it)")}"));
            Phase.Measuring = true;
            return;
        }
    }
});
await Task.WhenAll(Enumerable.Range(0, active).Select(i => Task.Run(async () =>
{
    var (symbol, size) = Markets[i];
    var warming = 0;
    for (var n = 0; n < warming + roundTrips; n++)
    {
        var warm = !Phase.Measuring;
        if (warm)
        {
            warming = n + 1;
        }

        runLimit.Token.ThrowIfCancellationRequested();
        var id = $"ld{i}-{n}-{Guid.NewGuid():N}"[..30];
        var t0 = Stopwatch.GetTimestamp();
        var opened = await client.OpenPositionAsync(new OpenPositionRequest
        {
            ClientOrderId = id + "o", Symbol = symbol, Side = Side.Long, Quantity = size, Leverage = 2, MarginType = MarginType.Cross,
        });
        var t1 = Stopwatch.GetTimestamp();
        if (opened.Denials.Count > 0)
        {
            throw new InvalidOperationException($"{symbol}: open refused: {opened.Denials[0].Message}");
        }

        await client.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = id + "c", Symbol = symbol });
        var t2 = Stopwatch.GetTimestamp();
        if (warm)
        {
            continue;
        }

        lock (trips)
        {
            if (measuredStart == TimeSpan.Zero)
            {
                measuredStart = wall.Elapsed;
                cpu = new CpuMeter();
                profile?.Reset();
            }

            opens.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            closes.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            trips.Add(Stopwatch.GetElapsedTime(t0, t2).TotalMilliseconds);
        }
    }
}, runLimit.Token)));
var measured = wall.Elapsed - measuredStart;
var cpuLine = cpu?.Describe(trips.Count);
Phase.Measuring = false; // the empty calls after the load are not beside it
var jitAfter = (Count: JitInfo.GetCompiledMethodCount(), Time: JitInfo.GetCompilationTime());
await warmupTask;
profile?.Print(Console.Out, trips.Count);
profile?.PrintMedianTrace(Console.Out, "ExecutionService/OpenPosition");
await stopEmpty.CancelAsync();
await emptyTask;

Report("empty unary gRPC call, idle, before the load", idleCalls);
Report("empty unary gRPC call beside the load (the baseline)", emptyCalls);
Report("OpenPosition", opens);
Report("ClosePosition", closes);
Report("open+close round trip", trips);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"round trips/s: {trips.Count / measured.TotalSeconds:F1} ({trips.Count} in {measured.TotalSeconds:F2} s with {active} clients)"));
Console.WriteLine(cpuLine);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"JIT while measuring: {jitAfter.Count - Phase.JitAtStart.Count} methods, {(jitAfter.Time - Phase.JitAtStart.Time).TotalMilliseconds:F0} ms ({(jitAfter.Time - Phase.JitAtStart.Time) / measured:P1} of one core)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"open p50 / empty p50: {Percentile(opens, 50) / Percentile(emptyCalls, 50):F1}x; open p99 / empty p99: {Percentile(opens, 99) / Percentile(emptyCalls, 99):F1}x"));
return 0;

static void Report(string name, List<double> samples) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-58} n={samples.Count,6}  p50={Percentile(samples, 50),8:F3} ms  p99={Percentile(samples, 99),8:F3} ms  max={Percentile(samples, 100),9:F3} ms"));

static double Percentile(List<double> samples, int p)
{
    if (samples.Count == 0)
    {
        return double.NaN;
    }

    var sorted = samples.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
}

static Dictionary<string, string?> With(params Dictionary<string, string?>[] parts)
{
    var result = new Dictionary<string, string?>();
    foreach (var part in parts)
    {
        foreach (var (k, v) in part)
        {
            result[k] = v;
        }
    }

    return result;
}

public partial class Program
{
    /// <summary>The simulator's eight symbols, each with a size on its step and above its minimum notional at the starting price.</summary>
    private static readonly (string Symbol, string Size)[] Markets =
    [
        ("BTCUSDT", "0.001"), ("ETHUSDT", "0.01"), ("SOLUSDT", "1"), ("BNBUSDT", "0.1"),
        ("XRPUSDT", "50"), ("DOGEUSDT", "500"), ("ADAUSDT", "100"), ("LINKUSDT", "3"),
    ];
}

/// <summary>Whether the warm-up has ended, shared by the clients, the empty calls and the warm-up's watch.</summary>
internal static class Phase
{
    private static volatile bool measuring;

    public static bool Measuring
    {
        get => measuring;
        set => measuring = value;
    }

    public static (long Count, TimeSpan Time) JitAtStart { get; set; }
}
