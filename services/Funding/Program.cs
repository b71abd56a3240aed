using TradeEngine.Funding.Extensions;
using TradeEngine.Funding.Services;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddFundingServices();

var app = builder.Build();

app.MapGrpcService<FundingGrpcService>();
app.MapGrpcDefaults();
app.MapDefaultEndpoints();

app.Run();
