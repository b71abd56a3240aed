using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// How an order's commissions reach the Ledger when the venue charges some in another asset: the change's fee is the
/// USDT part, each fill keeps its own asset, and the one trade that stands for a whole order (when its fills cannot go
/// with the change) keeps a single other asset's sum rather than lose it.
/// </summary>
public sealed class OrderFillsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static UserTrade Fill(long id, decimal commission, string asset) =>
        new("BTCUSDT", id, 7, OrderSide.Buy, 100_000m, 0.005m, 500m, 0m, commission, asset, Buyer: true, Maker: false, "BOTH", At);

    [Fact]
    public void Of_MixedAssets_FeeIsTheUsdtPartOnly()
    {
        var fills = OrderFills.Of([Fill(1, 0.25m, "USDT"), Fill(2, 0.000375m, "BNB"), Fill(3, 0.1m, "")]);

        Assert.Equal(0.35m, fills.Fee);
        Assert.Equal((0.35m, ""), fills.OrderTradeFee());
    }

    [Fact]
    public void LedgerFill_EachFillKeepsItsAsset_EmptyForUsdt()
    {
        var bnb = OrderFills.LedgerFill(Fill(2, 0.000375m, "BNB"), "order-1");
        var usdt = OrderFills.LedgerFill(Fill(1, 0.25m, "USDT"), "order-1");

        Assert.Equal(("0.000375", "BNB", "order-1", "2", "7"), (bnb.Fee, bnb.FeeAsset, bnb.ClientOrderId, bnb.ExchangeTradeId, bnb.ExchangeOrderId));
        Assert.Equal(("0.25", ""), (usdt.Fee, usdt.FeeAsset));
        Assert.Equal(0.25m, OrderFills.UsdtFee([bnb, usdt]));
    }

    [Fact]
    public void OrderTradeFee_AllPaidInOneOtherAsset_ThatAssetsSumUnderItsName()
    {
        var fills = OrderFills.Of([Fill(1, 0.000375m, "BNB"), Fill(2, 0.0004m, "BNB")]);

        Assert.Equal(0m, fills.Fee);
        Assert.Equal((0.000775m, "BNB"), fills.OrderTradeFee());
    }

    [Fact]
    public void OrderTradeFee_TwoOtherAssets_NeitherSummedAsTheOther()
    {
        var fills = OrderFills.Of([Fill(1, 0.000375m, "BNB"), Fill(2, 0.01m, "USDC")]);

        Assert.Equal((0m, ""), fills.OrderTradeFee());
    }
}
