using TradeEngine.Ledger.Extensions;
using TradeEngine.Ledger.Services;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddLedgerServices();

var app = builder.Build();

app.MapGrpcService<LedgerGrpcService>();
app.MapGrpcDefaults();
app.MapDefaultEndpoints();

app.Run();
