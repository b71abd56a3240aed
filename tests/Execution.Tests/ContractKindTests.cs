using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// Binance lists USDC-margined perpetuals (BTCUSDC) beside its USDT perpetuals; every balance, fee and PnL here is a USDT
/// amount. An open on one is bad input naming the symbol, and nothing reaches the venue; a position on one that is
/// already there (opened by hand) is left alone by reconciliation (reported, not adopted) and can still be closed. Before, the venue's margin asset was not read, and an open on a
/// USDC-margined symbol went through with its USDC PnL booked as USDT.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ContractKindTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task OpenPosition_OnAUsdcMarginedSymbol_InvalidArgumentNamingTheSymbolAndNothingSent_AHeldOneStillCloses()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            executionServices: s => VenueProxy.Install(s, real => VenueProxy.Wrap(real, VenueProxy.ListingAs("ETHUSDT", "USDC"))));

        await Orders.InvalidArgument("symbol", () => stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1")).ResponseAsync);

        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.Equal(0, await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage") + await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));
        Assert.Equal(0, await stack.CountAsync("positions"));

        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.1m), "by-hand-eth");
        // Reconciliation leaves it alone (its amounts are not USDT): not adopted, reported once a day however many passes.
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.CountAsync("positions"));
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT'") > 0, TimeSpan.FromSeconds(30), "the risk event");
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE symbol = 'ETHUSDT' AND event_type = 'reconciliation_mismatch' AND reason = 'the venue holds a 0.1 position on ETHUSDT, left alone: it is margined in USDC; only USDT-margined perpetuals are opened here (every balance, fee and PnL is booked in USDT)'"));
        var closed = await stack.Execution.ClosePositionAsync(Orders.Close("ETHUSDT"));

        Assert.NotEmpty(closed.ExitPrice);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
    }
}
