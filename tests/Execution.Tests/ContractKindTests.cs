using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
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

        // Its leverage and margin type are not this system's to set either.
        await Orders.InvalidArgument("symbol", () => stack.Execution.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "ETHUSDT", Leverage = 2 }).ResponseAsync);
        await Orders.InvalidArgument("symbol", () => stack.Execution.SetMarginTypeAsync(
            new SetMarginTypeRequest { IdempotencyKey = Orders.NewId("margin"), Symbol = "ETHUSDT", MarginType = Common.V1.MarginType.Isolated }).ResponseAsync);

        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.Equal(0, await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage") + await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));
        Assert.Equal(0, await stack.CountAsync("positions"));

        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.1m), "by-hand-eth");
        // Reconciliation leaves it alone (its amounts are not USDT): not adopted, reported (a warning and a risk event) once
        // a day however many passes while it holds the same, and again when it changes.
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.CountAsync("positions"));
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT'") > 0, TimeSpan.FromSeconds(30), "the risk event");
        const string leftAlone = "left alone: it is margined in USDC; only USDT-margined perpetuals are opened here (every balance, fee and PnL is booked in USDT)";
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE symbol = 'ETHUSDT' AND event_type = 'reconciliation_mismatch' AND reason = $1", "the venue holds a 0.1 position on ETHUSDT, " + leftAlone));
        Assert.Equal(1, stack.Log.Count("Reconciliation: not-traded-here on ETHUSDT"));

        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.1m), "by-hand-eth-2");
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.ReconcileAsync());
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT'") > 1, TimeSpan.FromSeconds(30), "the second risk event");
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason = $1", "the venue holds a 0.2 position on ETHUSDT, " + leftAlone));
        Assert.Equal(2, stack.Log.Count("Reconciliation: not-traded-here on ETHUSDT"));
        Assert.Equal(0, await stack.CountAsync("positions"));
        var closed = await stack.Execution.ClosePositionAsync(Orders.Close("ETHUSDT"));

        Assert.NotEmpty(closed.ExitPrice);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);

        // Flat, it is forgotten: held again the same day at the size last reported (0.2), it is reported again (the
        // warning; its risk event is the same day's for the same size, already written).
        Assert.Equal(0, await stack.ReconcileAsync());
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.2m), "by-hand-eth-3");
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal(3, stack.Log.Count("Reconciliation: not-traded-here on ETHUSDT"));
        Assert.Equal(0, await stack.CountAsync("positions"));
    }

    /// <summary>
    /// A delivery contract held by hand (BTCUSDT_260327: its name is no symbol here, and the simulator has none, so the
    /// venue client answers for it): reconciliation reports it and leaves it, and a pass still succeeds. Before, every
    /// pass failed on it (and Execution opens nothing until a pass has succeeded), and Risk refused every check, its account
    /// snapshot naming the contract: the account's answer leaves it out of its positions, with a warning.
    /// </summary>
    [Fact]
    public async Task Reconcile_ADeliveryContractHeldByHand_ReportedAndLeftAlone_OpensGoOn()
    {
        const string quarterly = "BTCUSDT_260327";
        var held = new PositionRisk(quarterly, 0.01m, 100_000m, 100_000m, 100_000m, 0m, 0m, 5, 1_000_000m, Domain.MarginType.Cross, 0m, 0m,
            1_000m, "BOTH", DateTimeOffset.UtcNow);
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            executionServices: s => VenueProxy.Install(s, real => VenueProxy.Wrap(real, (method, args, call) => method.Name switch
            {
                nameof(IBinanceClient.GetPositionsAsync) when (string?)args![0] == quarterly => Task.FromResult<IReadOnlyList<PositionRisk>>([held]),
                nameof(IBinanceClient.GetPositionsAsync) when args![0] is null => WithHeldAsync((Task<IReadOnlyList<PositionRisk>>)call()!),
                nameof(IBinanceClient.GetOpenConditionalOrdersAsync) when (string?)args![0] == quarterly =>
                    Task.FromResult<IReadOnlyList<ConditionalOrderInfo>>([]),
                _ => call(),
            })));

        Assert.Equal(0, await stack.ReconcileAsync());
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01"));

        var account = await stack.Execution.GetAccountAsync(new GetAccountRequest());

        Assert.NotEmpty(opened.EntryPrice);
        Assert.Equal("BTCUSDT", Assert.Single(account.Positions).Symbol);
        Assert.Contains("positions: the venue also holds positions on delivery contracts (BTCUSDT_260327); they are in the totals, not listed", account.Warnings);
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("risk_events WHERE symbol = $1", quarterly) > 0, TimeSpan.FromSeconds(30), "the risk event");
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = $1 AND reason LIKE $2", quarterly,
            "the venue holds a 0.01 position on BTCUSDT_260327, left alone: it is not a perpetual's symbol%"));
        Assert.Equal(0, await stack.CountAsync("positions WHERE symbol = $1", quarterly));

        async Task<IReadOnlyList<PositionRisk>> WithHeldAsync(Task<IReadOnlyList<PositionRisk>> read) => [.. await read, held];
    }
}
