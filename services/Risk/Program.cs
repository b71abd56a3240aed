using TradeEngine.Risk.Extensions;
using TradeEngine.Risk.Services;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddRiskServices();

var app = builder.Build();

app.MapGrpcService<RiskGrpcService>();
app.MapGrpcDefaults();
app.MapDefaultEndpoints();

app.Run();
