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
