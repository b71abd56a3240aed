using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using TradeEngine.Demo;
using TradeEngine.Execution.V1;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

// The plan's integration example against the running services (Execution at services__execution__http__0, and so on).
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddServiceGrpcClient<ExecutionService.ExecutionServiceClient>("execution");
builder.Services.AddServiceGrpcClient<FundingService.FundingServiceClient>("funding");
builder.Services.AddServiceGrpcClient<RiskService.RiskServiceClient>("risk");
builder.Services.AddSingleton<PerpetualFuturesDemo>();

using var host = builder.Build();
await host.StartAsync();
var exitCode = await host.Services.GetRequiredService<PerpetualFuturesDemo>().RunAsync(Console.Out, CancellationToken.None);
// Give the exporter a moment to ship the demo's spans before the process ends.
host.Services.GetService<TracerProvider>()?.ForceFlush(5_000);
await host.StopAsync();
return exitCode;
