using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Simulator;

public sealed class StatePersistenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paper-state-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Restart_WithStateFile_KeepsOrdersPositionsAndIncome()
    {
        var settings = new Dictionary<string, string?> { ["Paper:StateFile"] = Path.Combine(_dir, "paper.json") };
        long orderId;
        await using (var first = await PaperExchangeHost.StartAsync(settings))
        {
            var client = first.CreateClient();
            orderId = (await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.020m), "survives")).Order.OrderId;
            await client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 50000m), "sl-survives");
        }

        Assert.True(File.Exists(Path.Combine(_dir, "paper.json")));
        Assert.False(File.Exists(Path.Combine(_dir, "paper.json.tmp")));
        await using var second = await PaperExchangeHost.StartAsync(settings);
        var restarted = second.CreateClient();
        var order = await restarted.GetOrderAsync("BTCUSDT", "survives");
        Assert.Equal((orderId, OrderStatus.Filled), (order!.OrderId, order.Status));
        Assert.Equal(0.020m, (await restarted.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
        Assert.Single(await restarted.GetOpenConditionalOrdersAsync("BTCUSDT"));
        var next = await restarted.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "after-restart");
        Assert.True(next.Order.OrderId > orderId);
    }

    /// <summary>The BNB fee discount turned on at run time, the BNB it spent and its fills' asset outlive a restart.</summary>
    [Fact]
    public async Task Restart_WithStateFile_KeepsTheBnbFeeDiscountAndTheBnbSpent()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Paper:StateFile"] = Path.Combine(_dir, "paper.json"),
            ["Paper:Markets:BNBUSDT:InitialPrice"] = "600",
            ["Paper:StartingBnbBalance"] = "1",
        };
        await using (var first = await PaperExchangeHost.StartAsync(settings))
        {
            Assert.Equal(200, (await SignedHttp.SendAsync(first.Http, HttpMethod.Post, "fapi/v1/feeBurn", "feeBurn=true")).Status);
            await first.CreateClient().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "paid-in-bnb");
        }

        await using var second = await PaperExchangeHost.StartAsync(settings);
        var restarted = second.CreateClient();
        Assert.True((await SignedHttp.SendAsync(second.Http, HttpMethod.Get, "fapi/v1/feeBurn", "")).Body.GetProperty("feeBurn").GetBoolean());
        Assert.Equal(0.99955m, (await restarted.GetAccountAsync()).Assets.Single(a => a.Asset == "BNB").Balance);
        var trade = Assert.Single(await restarted.GetUserTradesAsync(new UserTradesQuery("BTCUSDT")));
        Assert.Equal((0.00045m, "BNB"), (trade.Commission, trade.CommissionAsset));
    }

    [Fact]
    public async Task Restart_WithStateFile_KeepsASymbolsStatus()
    {
        var settings = new Dictionary<string, string?> { ["Paper:StateFile"] = Path.Combine(_dir, "paper.json") };
        await using (var first = await PaperExchangeHost.StartAsync(settings))
        {
            await first.SetStatusAsync("ETHUSDT", "SETTLING");
        }

        await using var second = await PaperExchangeHost.StartAsync(settings);
        var info = await second.CreateClient().GetExchangeInfoAsync();
        Assert.Equal(("SETTLING", "TRADING"), (info.Find("ETHUSDT")!.Status, info.Find("BTCUSDT")!.Status));
    }
}
