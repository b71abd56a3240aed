using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// The account's position mode as Binance USD-M documents it: "Get Current Position Mode" (GET
/// /fapi/v1/positionSide/dual, weight 30, <c>{"dualSidePosition": true}</c> for hedge mode) and "Change Position Mode"
/// (POST, dualSidePosition "true" or "false", code 200 "success"; -4059 "No need to change position side." for the mode
/// the account has, -4067 with open orders, -4068 with a position), through the client. One-way is the default; in
/// hedge mode an order without positionSide LONG or SHORT is refused with -4061 and positionRisk lists a row a side.
/// </summary>
public class PositionModeTests : PaperTest
{
    [Fact]
    public async Task PositionMode_OneWayByDefault_TheSameModeAgainIsNoChange()
    {
        Assert.Equal(PositionMode.OneWay, await Client.GetPositionModeAsync());
        var (status, raw) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/positionSide/dual", "");
        Assert.Equal(200, status);
        Assert.False(raw.GetProperty("dualSidePosition").GetBoolean());

        Assert.Equal(new PositionModeChange(PositionMode.OneWay, Changed: false), await Client.ChangePositionModeAsync(PositionMode.OneWay));
        var (again, refused) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/positionSide/dual", "dualSidePosition=false");
        Assert.Equal((400, -4059, "No need to change position side."),
            (again, refused.GetProperty("code").GetInt32(), refused.GetProperty("msg").GetString()));
        Assert.False((await Paper.StateAsync()).DualSidePosition);
    }

    [Fact]
    public async Task PositionMode_HedgeWhenFlat_OrdersWithoutASideRefusedAndPositionsListedBySide_ThenBackToOneWay()
    {
        Assert.Equal(new PositionModeChange(PositionMode.Hedge, Changed: true), await Client.ChangePositionModeAsync(PositionMode.Hedge));
        Assert.Equal(PositionMode.Hedge, await Client.GetPositionModeAsync());
        Assert.True((await Paper.StateAsync()).DualSidePosition);

        var order = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "one-way-order"));
        Assert.Equal(BinanceErrors.PositionSideMismatch, order.Code);
        var stop = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 50000m), "one-way-stop"));
        Assert.Equal(BinanceErrors.PositionSideMismatch, stop.Code);
        Assert.Empty(await Paper.OrdersAsync());
        Assert.Empty((await Paper.StateAsync()).Positions);

        var rows = await Client.GetPositionsAsync("BTCUSDT");
        Assert.Equal(["LONG", "SHORT"], rows.Select(r => r.PositionSide).ToArray());
        Assert.All(rows, r => Assert.Equal(0m, r.PositionAmt));

        Assert.Equal(new PositionModeChange(PositionMode.OneWay, Changed: true), await Client.ChangePositionModeAsync(PositionMode.OneWay));
        Assert.Equal("BOTH", Assert.Single(await Client.GetPositionsAsync("BTCUSDT")).PositionSide);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "one-way-again");
        Assert.Equal(0.010m, Assert.Single((await Paper.StateAsync()).Positions).Amount);
    }

    [Fact]
    public async Task PositionMode_WithAPositionOrAnOpenOrder_RefusedAndUnchanged()
    {
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "held");
        var withPosition = await Assert.ThrowsAsync<BinanceApiException>(() => Client.ChangePositionModeAsync(PositionMode.Hedge));
        Assert.Equal((-4068, "Position side cannot be changed if there exists position."), (withPosition.Code, withPosition.VenueMessage));
        Assert.Equal(PositionMode.OneWay, await Client.GetPositionModeAsync());

        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m, ReduceOnly: true), "flat");
        await Client.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Limit, 0.010m, 2000m, TimeInForce.Gtc), "resting");
        var withOrder = await Assert.ThrowsAsync<BinanceApiException>(() => Client.ChangePositionModeAsync(PositionMode.Hedge));
        Assert.Equal((-4067, "Position side cannot be changed if there exists open orders."), (withOrder.Code, withOrder.VenueMessage));
        Assert.Equal(PositionMode.OneWay, await Client.GetPositionModeAsync());
        Assert.Empty((await Paper.StateAsync()).Positions);

        await Client.CancelAllOpenOrdersAsync("ETHUSDT");
        Assert.True((await Client.ChangePositionModeAsync(PositionMode.Hedge)).Changed);
    }

    [Theory]
    [InlineData("dualSidePosition=TRUE", -1130)]
    [InlineData("dualSidePosition=1", -1130)]
    [InlineData("", -1102)]
    public async Task PositionMode_ValueNotTrueOrFalse_RefusedAndUnchanged(string query, int code)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/positionSide/dual", query);

        Assert.Equal(400, status);
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(PositionMode.OneWay, await Client.GetPositionModeAsync());
    }

    /// <summary>Hedge mode set through the venue's API outlives a restart, as the account's setting does.</summary>
    [Fact]
    public async Task PositionMode_Hedge_OutlivesARestartWithAStateFile()
    {
        var dir = Directory.CreateTempSubdirectory("paper-mode-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["Paper:StateFile"] = Path.Combine(dir, "paper.json") };
            await using (var first = await PaperExchangeHost.StartAsync(settings))
            {
                Assert.True((await first.CreateClient().ChangePositionModeAsync(PositionMode.Hedge)).Changed);
            }

            await using var second = await PaperExchangeHost.StartAsync(settings);
            Assert.Equal(PositionMode.Hedge, await second.CreateClient().GetPositionModeAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
