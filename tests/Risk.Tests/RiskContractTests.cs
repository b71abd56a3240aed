using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Hosting;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The RPCs that need no Ledger and no venue (pure Domain and configuration), against Risk started with nothing
/// else configured, as Execution's SetLeverage uses it.
/// </summary>
public sealed class RiskContractTests : IAsyncLifetime
{
    private readonly LoopbackServiceHost<RiskGrpcService> host = new(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });

    private RiskService.RiskServiceClient Client => new(host.Channel);

    public Task InitializeAsync() => host.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task GetLiquidationPrice_SimpleLongFiftyThousandAtFiveX_PlanFigure40200()
    {
        var reply = await Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Simple, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
        });

        Assert.Equal(40_200.00m, decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task GetLiquidationPrice_ExchangeIsolatedLong_BelowEntryWithBracket()
    {
        var reply = await Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Exchange, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
            Quantity = "0.1", MarginType = Common.V1.MarginType.Isolated, WalletBalance = "1000",
        });

        var price = decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture);
        Assert.InRange(price, 40_000m, 50_000m);
        Assert.Equal(1, reply.Bracket);
    }

    [Fact]
    public async Task ValidateLeverage_FiftyWithDefaultMaxFive_InvalidWithMaxFive()
    {
        var reply = await Client.ValidateLeverageAsync(new ValidateLeverageRequest { Symbol = "BTCUSDT", Leverage = 50 });

        Assert.False(reply.Valid);
        Assert.Equal(5, reply.MaxLeverage);
        Assert.Contains("risk limit", reply.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateLeverage_ThreeOnSmallNotional_Valid()
    {
        var reply = await Client.ValidateLeverageAsync(new ValidateLeverageRequest { Symbol = "ETHUSDT", Leverage = 3, Notional = "5000" });

        Assert.True(reply.Valid);
        Assert.Equal(5, reply.MaxLeverage);
    }

    [Theory]
    [InlineData("DOGEUSDT", 3, "symbol")]
    [InlineData("BTCUSDT", 0, "leverage")]
    [InlineData("BTCUSDT", 126, "leverage")]
    public async Task ValidateLeverage_BadInput_InvalidArgumentNamingField(string symbol, int leverage, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.ValidateLeverageAsync(new ValidateLeverageRequest { Symbol = symbol, Leverage = leverage }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
    }

    [Fact]
    public async Task GetLimits_Defaults_HardLimits()
    {
        var reply = await Client.GetLimitsAsync(new GetLimitsRequest());

        Assert.Equal("10000", reply.MaxPositionNotional);
        Assert.Equal("500", reply.DailyLossLimit);
        Assert.Equal("1000", reply.MaxDrawdown);
        Assert.Equal(5, reply.MaxLeverage);
        Assert.Equal("0.15", reply.LiquidationBuffer);
    }

    [Fact]
    public async Task GetMarginHealth_EquityInsideBuffer_Reduce()
    {
        var reply = await Client.GetMarginHealthAsync(new GetMarginHealthRequest
        {
            Account = new Common.V1.AccountSnapshot { WalletBalance = "110", AvailableBalance = "0", UnrealizedPnl = "0", MaintenanceMargin = "100" },
        });

        Assert.Equal(Common.V1.MarginAction.Reduce, reply.Action);
        Assert.Equal(1.1m, decimal.Parse(reply.MarginRatio, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task CheckPreTrade_NoLedgerConfigured_UnavailableFailClosed()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = Support.RiskWorld.Order("0.1"), Account = Support.RiskWorld.Account(10_000m),
        }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Theory]
    [InlineData("Risk:MaxLeverage", "10", "Risk:MaxLeverage")]
    [InlineData("Risk:MaxPositionNotional", "20000", "Risk:MaxPositionNotional")]
    [InlineData("Risk:DailyLossLimit", "501", "Risk:DailyLossLimit")]
    public async Task Start_LooserThanHardLimit_FailsNamingSetting(string key, string value, string expected)
    {
        await using var loose = new LoopbackServiceHost<RiskGrpcService>(new Dictionary<string, string?> { [key] = value });

        var ex = await Assert.ThrowsAnyAsync<Exception>(loose.StartAsync);

        Assert.Contains(expected, Flatten(ex), StringComparison.Ordinal);
        Assert.Contains("never loosened", Flatten(ex), StringComparison.Ordinal);
    }

    private static string Flatten(Exception ex) => ex.InnerException is null ? ex.Message : ex.Message + " | " + Flatten(ex.InnerException);
}
