using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;

namespace TradeEngine.Binance.Tests.Simulator;

public class LiquidationTests : PaperTest
{
    [Fact]
    public async Task Liquidation_IsolatedLong_HappensAtTheDomainPriceAndNotBefore()
    {
        await Client.ChangeMarginTypeAsync("BTCUSDT", TradeEngine.Domain.MarginType.Isolated);
        await Client.ChangeLeverageAsync("BTCUSDT", 20);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.100m), "to-liquidate");
        // LP = (WB − Side × Q × EP + cum) / (Q × MMR − Side × Q) = (300 − 6000 + 0) / (0.0004 − 0.1) ≈ 57228.9157
        var expected = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = TradeEngine.Domain.MarginType.Isolated,
            Side = Side.Long,
            Quantity = 0.1m,
            EntryPrice = 60000m,
            WalletBalance = 300m,
            Brackets = BracketTables.For(new Symbol("BTCUSDT")),
        }).Price;
        Assert.InRange(expected, 57228.9m, 57229m);

        await Paper.SetPathAsync("BTCUSDT", [59000m, 58000m, Math.Ceiling(expected * 10m) / 10m]);
        Assert.Equal(0.100m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);

        await Paper.SetPathAsync("BTCUSDT", [Math.Floor(expected * 10m) / 10m]);
        Assert.Equal(0m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
        var closing = (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Last();
        Assert.Equal((OrderSide.Sell, Math.Round(expected, 8), 0m), (closing.Side, closing.Price, closing.Commission));
        var income = await Client.GetIncomeHistoryAsync(new IncomeQuery("BTCUSDT"));
        Assert.Contains(income, i => i.IncomeType == IncomeType.InsuranceClear && i.Income < 0m);
        // The isolated margin is gone; the cross wallet keeps only the start balance minus the opening commission.
        Assert.Equal(10_000m - 3m - 300m, (await Client.GetAccountAsync()).TotalWalletBalance);
    }

    [Fact]
    public async Task Liquidation_CrossShort_HappensWhenMarkReachesTheDomainCrossPrice()
    {
        await Paper.ResetAsync(balance: 1_000m);
        await Client.ChangeLeverageAsync("ETHUSDT", 20);
        await Client.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 5.000m), "short-eth");
        // Worked by hand (not with Domain's LiquidationPrice, which the simulator itself uses): the wallet after the
        // opening commission is 1,000 - 15,000 x 0.0005 = 992.5; the 15,000 notional is in ETHUSDT's second bracket
        // (maintenance 0.65 %, cum 15), and at the price found it still is (5 x 3180.82 = 15,904).
        // LP = (WB + cum - Side x Q x EP) / (Q x MMR - Side x Q) = (992.5 + 15 + 15,000) / (0.0325 + 5) = 3180.8246398410...
        var expected = 16_007.5m / 5.0325m;
        Assert.Equal(3180.82463984m, (await Client.GetPositionsAsync("ETHUSDT")).Single().LiquidationPrice);

        await Paper.SetPathAsync("ETHUSDT", [3100m, Math.Floor(expected * 100m) / 100m]);
        Assert.Equal(-5m, (await Client.GetPositionsAsync("ETHUSDT")).Single().PositionAmt);
        await Paper.SetPathAsync("ETHUSDT", [Math.Ceiling(expected * 100m) / 100m]);
        Assert.Equal(0m, (await Client.GetPositionsAsync("ETHUSDT")).Single().PositionAmt);
        Assert.Equal(Math.Round(expected, 8), (await Client.GetUserTradesAsync(new UserTradesQuery("ETHUSDT"))).Last().Price);
    }
}
