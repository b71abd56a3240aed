using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Paper;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

/// <summary>
/// The gRPC defaults as a client sees them, against the real Risk service on Kestrel over loopback: service discovery
/// from <c>services__risk__http__0</c>, validation errors naming the field, and the message size limit.
/// </summary>
public sealed class RiskOverLoopbackTests : IAsyncLifetime
{
    private readonly LoopbackServiceHost<RiskGrpcService> risk = new();

    public Task InitializeAsync() => risk.StartAsync();

    public async Task DisposeAsync() => await risk.DisposeAsync();

    [Fact]
    public async Task AddServiceGrpcClient_ServicesRiskHttpConfigured_ReachesRiskAtThatAddress()
    {
        // Wired as a service wires itself: the defaults plus a typed client for "risk".
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["services:risk:http:0"] = risk.Address.ToString();
        builder.Configuration[ServiceKey.Setting] = TestServiceKey.Value;
        builder.AddServiceDefaults();
        builder.Services.AddServiceGrpcClient<RiskService.RiskServiceClient>("risk");
        using var host = builder.Build();

        var limits = await host.Services.GetRequiredService<RiskService.RiskServiceClient>().GetLimitsAsync(new GetLimitsRequest());

        Assert.Equal("10000", limits.HardMaxPositionNotional);
    }

    [Theory]
    [InlineData("1e5")]
    [InlineData("NaN")]
    [InlineData("1,5")]
    [InlineData("12345678901234567890123456789")]
    public async Task ValidateLeverage_MalformedDecimal_InvalidArgumentNamingField(string notional)
    {
        var client = new RiskService.RiskServiceClient(risk.Channel);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.ValidateLeverageAsync(new ValidateLeverageRequest { Symbol = "BTCUSDT", Leverage = 3, Notional = notional }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "notional");
    }

    [Fact]
    public async Task GetLiquidationPrice_UnspecifiedMethod_InvalidArgumentNamingField()
    {
        var client = new RiskService.RiskServiceClient(risk.Channel);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "method");
    }

    [Fact]
    public async Task GetLiquidationPrice_ExchangeMalformedWallet_InvalidArgumentBeforeAnyVenueCall()
    {
        // This Risk has no venue at all: the answer can only be INVALID_ARGUMENT if the request is checked first.
        var client = new RiskService.RiskServiceClient(risk.Channel);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Exchange, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
            MarginType = Common.V1.MarginType.Isolated, Quantity = "0.1", WalletBalance = "1e3",
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "wallet_balance");
    }

    [Fact]
    public async Task GetLiquidationPrice_OversizedMessage_RefusedBySizeLimit()
    {
        var client = new RiskService.RiskServiceClient(risk.Channel);
        var huge = new string('A', GrpcServerExtensions.MaxMessageBytes + 1);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest { Symbol = huge }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task GetLiquidationPrice_SimpleFormula_PlanFigure()
    {
        // The estimate is rounded to the symbol's tick where that is finer than a cent, so Risk reads the venue's
        // instruments for it: a Risk with the simulator as its venue.
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var withVenue = new LoopbackServiceHost<RiskGrpcService>(paper.BinanceSettings());
        await withVenue.StartAsync();
        var client = new RiskService.RiskServiceClient(withVenue.Channel);

        var reply = await client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Simple, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
        });

        Assert.Equal(40200.00m, decimal.Parse(reply.LiquidationPrice, System.Globalization.CultureInfo.InvariantCulture));
    }
}
