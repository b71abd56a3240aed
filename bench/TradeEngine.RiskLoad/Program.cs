using System.Globalization;
using System.Net;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TradeEngine.Common.V1;
using TradeEngine.Risk.Extensions;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.State;
using TradeEngine.Risk.V1;
using TradeEngine.RiskLoad;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

// Risk's CheckPreTrade over loopback gRPC (127.0.0.1 only) beside an empty unary call on the same server, with the
// same interceptors, in one run. Usage: dotnet run -c Release --project bench/TradeEngine.RiskLoad [callers] [calls] [seconds]
var callers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 32;
var calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;

// As Production for everything that reads the environment (IsDevelopment), except Risk's refusal of a margin monitor
// off (it has no Execution to watch here), which Production enforces.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Benchmark" });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// Every call to our services carries the deployment's service key; the load's channel sends this one.
const string serviceKey = "risk-load-service-key-5d2e8b71";
builder.Configuration[ServiceKey.Setting] = serviceKey;
// Risk refuses to start without a venue named; this load never calls it (a fixed instrument source), so a loopback port
// nothing listens on.
builder.Configuration["Binance:BaseUrl"] = "http://127.0.0.1:9";
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
builder.Services.AddSingleton<IRiskStateSource, FixedRiskStateSource>();
builder.Services.AddSingleton<TradeEngine.Binance.Instruments.IInstrumentSource, CatalogInstrumentSource>();
builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddRiskServices();
var app = builder.Build();
app.MapGrpcService<RiskGrpcService>();
app.MapGrpcService<EmptyHealthService>();
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
{
    HttpHandler = new ServiceKeyHandler(serviceKey, new SocketsHttpHandler { EnableMultipleHttp2Connections = true }),
});
var health = new Health.HealthClient(channel);
var risk = new RiskService.RiskServiceClient(channel);
var empty = new HealthCheckRequest();
var check = new CheckPreTradeRequest
{
    Order = new OrderIntent { Symbol = "BTCUSDT", Side = Side.Long, Quantity = "0.1", Price = "60000", Leverage = 5, MarginType = MarginType.Cross },
    Account = new AccountSnapshot
    {
        WalletBalance = "10000", AvailableBalance = "10000", UnrealizedPnl = "0", Equity = "10000", MaintenanceMargin = "0",
        Positions = { new PositionSnapshot { Symbol = "ETHUSDT", Side = Side.Short, Quantity = "1", EntryPrice = "3000", MarkPrice = "3000", Leverage = 3 } },
    },
};
var probe = await risk.CheckPreTradeAsync(check);
if (!probe.Allowed)
{
    throw new InvalidOperationException("The benchmark order must be allowed: " + probe);
}

Func<Task> emptyCall = async () => await health.CheckAsync(empty);
Func<Task> checkCall = async () => await risk.CheckPreTradeAsync(check);

Console.WriteLine($"Risk load on {address}: {callers} callers, at most {calls} calls or {seconds} s per phase, {Environment.ProcessorCount} cores");
await LoadRunner.RunAsync("warm-up empty", emptyCall, callers, 20_000, TimeSpan.FromSeconds(3));
await LoadRunner.RunAsync("warm-up check", checkCall, callers, 20_000, TimeSpan.FromSeconds(3));
var results = new List<(PhaseResult Empty, PhaseResult Check)>();
for (var round = 0; round < 2; round++)
{
    var e = await LoadRunner.RunAsync("empty unary", emptyCall, callers, calls, TimeSpan.FromSeconds(seconds));
    var c = await LoadRunner.RunAsync("pre-trade check", checkCall, callers, calls, TimeSpan.FromSeconds(seconds));
    Console.WriteLine(e);
    Console.WriteLine(c);
    results.Add((e, c));
}

var last = results[^1];
var ratio = last.Check.P50Microseconds / last.Empty.P50Microseconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"p50 ratio check/empty: {ratio:F2} (goal <= 1.5); check throughput {last.Check.CallsPerSecond:F0}/s (goal >= 20000); empty {last.Empty.CallsPerSecond:F0}/s"));
await app.StopAsync();
