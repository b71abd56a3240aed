using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// Commissions the venue charges in BNB (the account's BNB fee discount on, BNB in the futures wallet): each fill's fee is
/// booked with its asset, never as dollars, and a position's fees are the USDT the wallet paid, so the Ledger's net PnL
/// is the USDT wallet's move. Before, a BNB amount was summed into the USDT fees (0.00075 BNB booked as 0.00075 USDT).
/// BTCUSDT at 100,000 and BNBUSDT at 600, no slippage: a 1,000 USDT fill costs 0.5 USDT at the taker rate, charged as
/// 0.5 × 0.9 / 600 = 0.00075 BNB.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class FeeAssetTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly Dictionary<string, string?> BnbFees = new()
    {
        ["Paper:Markets:BNBUSDT:InitialPrice"] = "600",
        ["Paper:FeeBurn"] = "true",
        ["Paper:StartingBnbBalance"] = "1",
    };

    [Fact]
    public async Task OpenThenClose_FeesPaidInBnb_TradesKeepTheBnbAndThePositionsUsdtFeesAreZero()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, paperSettings: BnbFees);
        var open = Orders.Open(quantity: "0.01");

        var opened = await stack.Execution.OpenPositionAsync(open);
        await stack.Paper.SetPriceAsync("BTCUSDT", 101_000m);
        var closeId = Orders.NewId("close");
        var closed = await stack.Execution.ClosePositionAsync(new V1.ClosePositionRequest { ClientOrderId = closeId, Symbol = "BTCUSDT", Reason = "done" });

        Assert.Equal("0", opened.Fee);
        Assert.Equal(("10", "0"), (closed.RealizedPnl, closed.Fees));
        // The venue charged BNB for both fills; its USDT wallet moved by the PnL alone, as the Ledger's books say.
        var venueFills = await stack.Venue().GetUserTradesAsync(new UserTradesQuery("BTCUSDT"));
        Assert.Equal([(0.00075m, "BNB"), (0.0007575m, "BNB")], venueFills.Select(t => (t.Commission, t.CommissionAsset)));
        Assert.Equal(10_010m, (await stack.Venue().GetAccountAsync()).TotalWalletBalance);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'closed' AND fees = 0 AND realized_pnl = 10"));
        foreach (var (clientOrderId, fee) in new[] { (open.ClientOrderId, "0.00075"), (closeId, "0.0007575") })
        {
            var trade = Assert.Single((await stack.Ledger.GetOrderTradesAsync(
                new GetOrderTradesRequest { Venue = "binance", Symbol = "BTCUSDT", ClientOrderId = clientOrderId })).Trades);
            Assert.Equal((fee, "BNB"), (trade.Fee, trade.FeeAsset));
        }
    }

    /// <summary>
    /// A position opened at the venue behind Execution's back (or while it was down) and paid for in BNB: reconciliation
    /// adopts it with the venue's fills, each with its BNB fee, and no USDT fee. Before, the adoption's fee summed the BNB
    /// amounts as USDT.
    /// </summary>
    [Fact]
    public async Task Reconcile_PositionOpenedByHandPaidInBnb_AdoptedWithItsFillsAndTheirBnbFees()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, paperSettings: BnbFees);
        await stack.Venue().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.01m), "by-hand-bnb");

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE symbol = 'BTCUSDT' AND status = 'open' AND quantity = 0.01 AND fees = 0 AND strategy = 'reconciled-with-fills'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = 'by-hand-bnb' AND fee = 0.00075 AND fee_asset = 'BNB'"));
    }
}
