using System.Globalization;
using System.Reflection;
using System.Text.Json;
using TradeEngine.VenueLoad;

// Mode 1 (child): an empty ASP.NET Core endpoint, the baseline.
if (args is ["serve-empty", ..])
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    var app = builder.Build();
    app.MapGet("/ready", () => Results.Ok());
    app.MapPost("/fapi/v1/order", () => Results.Text("{}", "application/json"));
    await app.RunAsync();
    return 0;
}

// Mode 2: start both servers on 127.0.0.1, load each in turn, print p50/p99/throughput and the ratio.
var options = LoadOptions.Parse(args);
const string ApiKey = "venue-load-key-FAKE";
const string Secret = "venue-load-secret-FAKE";
var paperDll = options.PaperDll ?? LocatePaperDll();
var self = Assembly.GetEntryAssembly()!.Location;
var paperEnv = new Dictionary<string, string>
{
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["Paper__ApiKey"] = ApiKey,
    ["Paper__ApiSecret"] = Secret,
    ["Paper__StartingBalance"] = "100000000",
    ["Paper__Markets__BTCUSDT__Volatility"] = "0",
    ["Paper__Markets__ETHUSDT__Volatility"] = "0",
    ["Paper__Markets__SOLUSDT__Volatility"] = "0",
    ["Logging__LogLevel__Default"] = "Warning",
};

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"VenueLoad: {options.Requests} signed orders per target (≤ {options.Duration.TotalSeconds:0} s), {options.Concurrency} concurrent, warm-up {options.Warmup}, {Environment.ProcessorCount} cores"));
var results = new List<LoadResult>();
await using (var empty = await ChildServer.StartAsync(self, ["serve-empty"], new Dictionary<string, string>(), "ready"))
{
    results.Add(await LoadRunner.RunAsync("empty ASP.NET Core endpoint", empty.Address, ApiKey, Secret, options, 0));
}

await using (var paper = await ChildServer.StartAsync(paperDll, [], paperEnv, "fapi/v1/ping"))
{
    using var http = new HttpClient { BaseAddress = paper.Address };
    using var time = JsonDocument.Parse(await http.GetStringAsync("fapi/v1/time"));
    var offset = time.RootElement.GetProperty("serverTime").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    results.Add(await LoadRunner.RunAsync("PaperExchange POST /fapi/v1/order", paper.Address, ApiKey, Secret, options, offset));
}

Console.WriteLine();
Console.WriteLine($"{"target",-36} {"requests",9} {"errors",7} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"p99.9 ms",9} {"max ms",8}");
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Target,-36} {r.Requests,9} {r.Errors,7} {r.Throughput,9:0} {r.P50Ms,8:0.000} {r.P99Ms,8:0.000} {r.P999Ms,9:0.000} {r.MaxMs,8:0.0}"));
}

var baseline = results[0];
var venue = results[1];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"PaperExchange / empty endpoint: throughput {venue.Throughput / baseline.Throughput:0.00}x, p99 {venue.P99Ms / baseline.P99Ms:0.00}x"));
var ok = venue.Errors == 0 && venue.Throughput >= 5_000 && venue.P99Ms < 5.0;
Console.WriteLine(ok ? "Goal met: ≥ 5,000 signed orders/s with p99 < 5 ms." : "Goal NOT met (≥ 5,000/s, p99 < 5 ms, no errors).");
return ok ? 0 : 1;

static string LocatePaperDll()
{
#if DEBUG
    const string Configuration = "Debug";
#else
    const string Configuration = "Release";
#endif
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "services", "PaperExchange", "bin", Configuration, "net10.0", "TradeEngine.PaperExchange.dll");
        if (File.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new FileNotFoundException("TradeEngine.PaperExchange.dll not found; build it or pass --paper-dll");
}
