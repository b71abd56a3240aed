using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Paper;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The RPCs that need no Ledger (Domain, configuration and the venue's instruments), against Risk started with only
/// the venue (PaperExchange) configured, as Execution's SetLeverage uses it.
/// </summary>
public sealed class RiskContractTests : IAsyncLifetime
{
    private PaperExchangeHost paper = null!;
    private LoopbackServiceHost<RiskGrpcService> host = null!;

    private RiskService.RiskServiceClient Client => new(host.Channel);

    public async Task InitializeAsync()
    {
        paper = await PaperExchangeHost.StartAsync();
        host = new(new Dictionary<string, string?>(paper.BinanceSettings()) { ["Logging:LogLevel:Default"] = "Warning" });
        await host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await paper.DisposeAsync();
    }

    [Fact]
    public async Task GetLiquidationPrice_SimpleLongFiftyThousandAtFiveX_PlanFigure40200()
    {
        var reply = await Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Simple, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5,
        });

        Assert.Equal(40_200.00m, decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// DOGEUSDT's tick is 0.00001: the estimate is rounded to it, toward the entry. Before, it was rounded to the cent
    /// (0.12 and 0.18, 0.10 and 0.20).
    /// </summary>
    [Theory]
    [InlineData(5, Common.V1.Side.Long, "0.1206")]
    [InlineData(5, Common.V1.Side.Short, "0.1794")]
    [InlineData(3, Common.V1.Side.Long, "0.1006")]
    [InlineData(3, Common.V1.Side.Short, "0.1994")]
    public async Task GetLiquidationPrice_SimpleOnACheapSymbol_ToItsTick(int leverage, Common.V1.Side side, string expected)
    {
        var reply = await Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Simple, Symbol = "DOGEUSDT", Side = side, EntryPrice = "0.15", Leverage = leverage,
        });

        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture));
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
    [InlineData("NOSUCHUSDT", 3, "symbol")]
    [InlineData("btcusdt", 3, "symbol")]
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
    public async Task ValidateLeverage_SolUsdtFourHourVenueSymbol_ValidWithinRiskLimit()
    {
        var reply = await Client.ValidateLeverageAsync(new ValidateLeverageRequest { Symbol = "SOLUSDT", Leverage = 3, Notional = "1500" });

        Assert.True(reply.Valid);
        Assert.Equal(5, reply.MaxLeverage);
    }

    [Fact]
    public async Task GetLiquidationPrice_ExchangeSolUsdt_UsesTheVenueBracket()
    {
        var reply = await Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Exchange, Symbol = "SOLUSDT", Side = Common.V1.Side.Long, EntryPrice = "150", Leverage = 5,
            Quantity = "10", MarginType = Common.V1.MarginType.Isolated, WalletBalance = "300",
        });

        // The simulator's SOLUSDT table (its leverageBracket), not Domain's catalog, which has no SOLUSDT: 1 % in bracket 1.
        Assert.Equal(1, reply.Bracket);
        Assert.Equal(0.01m, decimal.Parse(reply.MaintenanceMarginRate, CultureInfo.InvariantCulture));
        Assert.InRange(decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture), 100m, 150m);
    }

    [Fact]
    public async Task GetLiquidationPrice_UnknownSymbol_InvalidArgumentNamingSymbol()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.GetLiquidationPriceAsync(new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Exchange, Symbol = "NOSUCHUSDT", Side = Common.V1.Side.Long, EntryPrice = "150", Leverage = 5,
            Quantity = "10", MarginType = Common.V1.MarginType.Isolated, WalletBalance = "300",
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var violation = Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal("symbol", violation.Field);
        Assert.Contains("unknown symbol", violation.Description, StringComparison.Ordinal);
    }

    public static TheoryData<GetLiquidationPriceRequest, string> LiquidationBadInput => new()
    {
        // Absurd sizes: quantity × entry past decimal's range used to surface as INTERNAL.
        { Exchange(quantity: "1000000000000000000000000", entry: "100000"), "quantity" },
        { Exchange(wallet: "79000000000000000000000000000"), "wallet_balance" },
        { Exchange(entry: "79000000000000000000000000000"), "entry_price" },
        { Exchange(otherMaintenance: "-1", margin: Common.V1.MarginType.Cross), "other_maintenance_margin" },
        { new GetLiquidationPriceRequest { Method = LiquidationMethod.Simple, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5, MaintenanceMarginRate = "-0.01" }, "maintenance_margin_rate" },
        { new GetLiquidationPriceRequest { Method = LiquidationMethod.Simple, Symbol = "btc-usdt", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5 }, "symbol" },
        { new GetLiquidationPriceRequest { Method = LiquidationMethod.Simple, Symbol = "NOSUCHUSDT", Side = Common.V1.Side.Long, EntryPrice = "50000", Leverage = 5 }, "symbol" },
    };

    [Theory]
    [MemberData(nameof(LiquidationBadInput))]
    public async Task GetLiquidationPrice_BadInput_InvalidArgumentNamingTheWireField(GetLiquidationPriceRequest request, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.GetLiquidationPriceAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(field, Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    private static GetLiquidationPriceRequest Exchange(
        string quantity = "0.1", string entry = "50000", string wallet = "1000", string? otherMaintenance = null,
        Common.V1.MarginType margin = Common.V1.MarginType.Isolated)
    {
        var request = new GetLiquidationPriceRequest
        {
            Method = LiquidationMethod.Exchange, Symbol = "BTCUSDT", Side = Common.V1.Side.Long, EntryPrice = entry, Leverage = 5,
            Quantity = quantity, MarginType = margin, WalletBalance = wallet,
        };
        if (otherMaintenance is not null)
        {
            request.OtherMaintenanceMargin = otherMaintenance;
        }

        return request;
    }

    [Theory]
    // Unknown symbol and no maintenance_margin: the venue's brackets cannot give it.
    [InlineData("NOSUCHUSDT", "1", "10", "account.positions[0].symbol")]
    // Absurd size: quantity × entry past decimal's range used to surface as INTERNAL.
    [InlineData("BTCUSDT", "1000000000000000000000000", "100000", "account.positions[0].quantity")]
    [InlineData("BTCUSDT", "1", "100000000000000000000", "account.positions[0].entry_price")]
    // Within the amount bounds but above BTCUSDT's last leverage bracket: the position's size is named, not Domain's "notional".
    [InlineData("BTCUSDT", "100000", "100000", "account.positions[0].quantity")]
    public async Task GetMarginHealth_BadPosition_InvalidArgumentNamingTheField(string symbol, string quantity, string entry, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.GetMarginHealthAsync(new GetMarginHealthRequest
        {
            Account = new Common.V1.AccountSnapshot
            {
                WalletBalance = "1000", AvailableBalance = "1000",
                Positions = { new Common.V1.PositionSnapshot { Symbol = symbol, Side = Common.V1.Side.Long, Quantity = quantity, EntryPrice = entry } },
            },
        }).ResponseAsync);

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
    [InlineData("order.quantity", false)]
    [InlineData("order.leverage", false)]
    [InlineData("account.wallet_balance", false)]
    [InlineData("account.positions[0].quantity", false)]
    [InlineData("order.quantity", true)]
    [InlineData("account.positions[0].entry_price", true)]
    [InlineData("funding_settlements", true)]
    public async Task CheckPreTradeAndPreview_BadInputWhileVenueDown_InvalidArgumentNamingFieldNotUnavailable(string field, bool preview)
    {
        // A venue that answers nothing (started, then stopped: its port refuses), so every instrument or bracket
        // look-up fails; bad input must still be named for what it is.
        var gone = await PaperExchangeHost.StartAsync();
        var settings = new Dictionary<string, string?>(gone.BinanceSettings()) { ["Logging:LogLevel:Default"] = "Warning" };
        await gone.DisposeAsync();
        await using var blind = new LoopbackServiceHost<RiskGrpcService>(settings);
        await blind.StartAsync();
        var risk = new RiskService.RiskServiceClient(blind.Channel);
        var order = Support.RiskWorld.Order("0.1");
        // A position with no maintenance margin sent: its brackets would be read from the venue.
        var account = new Common.V1.AccountSnapshot
        {
            WalletBalance = "10000", AvailableBalance = "10000",
            Positions = { new Common.V1.PositionSnapshot { Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "1", EntryPrice = "3000" } },
        };
        var settlements = 0;
        switch (field)
        {
            case "order.quantity": order.Quantity = "-0.1"; break;
            case "order.leverage": order.Leverage = 0; break;
            case "account.wallet_balance": account.WalletBalance = "1e4"; break;
            case "account.positions[0].quantity": account.Positions[0].Quantity = "0"; break;
            case "account.positions[0].entry_price": account.Positions[0].EntryPrice = "3,000"; break;
            case "funding_settlements": settlements = -1; break;
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => preview
            ? risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account, FundingSettlements = settlements }).ResponseAsync
            : risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = order, Account = account }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(field, Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task CheckPreTrade_WellFormedWhileVenueDown_Unavailable()
    {
        var gone = await PaperExchangeHost.StartAsync();
        var settings = new Dictionary<string, string?>(gone.BinanceSettings()) { ["Logging:LogLevel:Default"] = "Warning" };
        await gone.DisposeAsync();
        await using var blind = new LoopbackServiceHost<RiskGrpcService>(settings);
        await blind.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RiskService.RiskServiceClient(blind.Channel).CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = Support.RiskWorld.Order("0.1"), Account = Support.RiskWorld.Account(10_000m),
        }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("venue", ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Risk:MaxLeverage", "10", "Risk:MaxLeverage")]
    [InlineData("Risk:MaxPositionNotional", "20000", "Risk:MaxPositionNotional")]
    [InlineData("Risk:DailyLossLimit", "501", "Risk:DailyLossLimit")]
    [InlineData("Risk:MaxDrawdown", "1000.01", "Risk:MaxDrawdown")]
    [InlineData("Risk:LiquidationBuffer", "0.14", "Risk:LiquidationBuffer")]
    [InlineData("Risk:MinNotional", "4.99", "Risk:MinNotional")]
    public async Task Start_LooserThanHardLimit_FailsNamingSetting(string key, string value, string expected)
    {
        await using var loose = new LoopbackServiceHost<RiskGrpcService>(new Dictionary<string, string?> { [key] = value });

        var ex = await Assert.ThrowsAnyAsync<Exception>(loose.StartAsync);

        Assert.Contains(expected, Flatten(ex), StringComparison.Ordinal);
        Assert.Contains("never loosened", Flatten(ex), StringComparison.Ordinal);
    }

    /// <summary>How long checks go on with Ledger state last read is bounded (an hour at most), below by the refresh.</summary>
    [Theory]
    [InlineData("3601", "5")]
    [InlineData("86400", "5")]
    [InlineData("4", "5")]
    public async Task Start_StateMaxAgeOutsideItsBounds_FailsNamingSetting(string maxAge, string refresh)
    {
        await using var host = new LoopbackServiceHost<RiskGrpcService>(new Dictionary<string, string?>
        {
            ["Risk:StateMaxAgeSeconds"] = maxAge, ["Risk:StateRefreshSeconds"] = refresh,
        });

        var ex = await Assert.ThrowsAnyAsync<Exception>(host.StartAsync);

        Assert.Contains("Risk:StateMaxAgeSeconds must be from Risk:StateRefreshSeconds to 3600", Flatten(ex), StringComparison.Ordinal);
    }

    private static string Flatten(Exception ex) => ex.InnerException is null ? ex.Message : ex.Message + " | " + Flatten(ex.InnerException);
}
