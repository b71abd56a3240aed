using TradeEngine.Execution.Extensions;
using TradeEngine.Execution.Services;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddExecutionServices();

var app = builder.Build();

app.MapGrpcService<ExecutionGrpcService>();
app.MapGrpcDefaults();
app.MapDefaultEndpoints();

app.Run();
