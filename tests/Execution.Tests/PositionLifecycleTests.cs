using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Testing.Paper;
using TradeEngine.Binance.Models;
using TradeEngine.Contracts.Events;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

[Collection(StackCollection.Name)]
public sealed class PositionLifecycleTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// A retry of an open already answered gets that answer, even after the symbol's lot changed (Binance coarsens a lot
    /// from time to time) so that the same request, judged afresh, would be refused. Before, the retry was parsed against
    /// the new list first and answered INVALID_ARGUMENT for an order that had filled.
    /// </summary>
    [Fact]
    public async Task OpenPosition_RetriedAfterTheSymbolsLotChanged_AnsweredWithTheFirstResult()
    {
        var coarse = false;
        var coarseLot = TradeEngine.Testing.Venue.VenueProxy.LotStep("BTCUSDT", 0.01m);
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionServices: s => TradeEngine.Testing.Venue.VenueProxy.Install(s,
            real => TradeEngine.Testing.Venue.VenueProxy.Wrap(real, (method, args, call) => Volatile.Read(ref coarse) ? coarseLot(method, args, call) : call())));
        var open = Orders.Open(quantity: "0.005", leverage: 2);
        var opened = await stack.Execution.OpenPositionAsync(open);
        Volatile.Write(ref coarse, true);
        await stack.ExecutionHost.Services.GetRequiredService<TradeEngine.Binance.Instruments.VenueInstrumentCatalog>().RefreshAsync();

        var retried = await stack.Execution.OpenPositionAsync(open);

        Assert.True(retried.Replayed);
        Assert.Equal((opened.VenueOrderId, opened.PositionId, "0.005"), (retried.VenueOrderId, retried.PositionId, retried.Quantity));
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        // The new lot is in force: the same figures under a new id are refused, nothing sent.
        var orders = await stack.OrderRequestsAsync();
        await Orders.InvalidArgument("quantity", () => stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.005", leverage: 2)).ResponseAsync);
        Assert.Equal(orders, await stack.OrderRequestsAsync());
    }

    /// <summary>
    /// The Ledger is down: the account and a position still read, with the venue's figures and a warning, and without
    /// the records' details. Before, both reads failed, and Risk's margin monitor, which judges the account through
    /// GetAccount, raised no alert for as long as the Ledger was down.
    /// </summary>
    [Fact]
    public async Task GetAccountAndGetPosition_LedgerDown_VenueFiguresWithAWarningAndNoRecord()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", stopLoss: "2000"));
        var before = await stack.Execution.GetAccountAsync(new GetAccountRequest());
        Assert.Empty(before.Warnings);
        Assert.Equal(opened.PositionId, Assert.Single(before.Positions).PositionId);
        await stack.StopLedgerAsync();

        var account = await stack.Execution.GetAccountAsync(new GetAccountRequest());
        var position = await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" });

        Assert.Equal([Positions.AccountQueries.RecordsMissingWarning], account.Warnings);
        Assert.Equal(before.WalletBalance, account.WalletBalance);
        Assert.NotEmpty(account.MarginRatio);
        var listed = Assert.Single(account.Positions);
        Assert.Equal(("ETHUSDT", "0.2", ""), (listed.Symbol, listed.Quantity, listed.PositionId));
        Assert.Equal(("0.2", "", ""), (position.Quantity, position.PositionId, position.StopLossPrice));
    }

    [Fact]
    public async Task OpenThenClose_LedgerRefusesTheFills_PositionAndOrderTradeRecordedAnyway()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        // The Ledger already holds a BTCUSDT fill under the id the venue gives its next trade (a simulator restarted
        // beside a kept Ledger numbers its trades from 5000001 again): the open's fills are refused as duplicates.
        var taken = new TradeEngine.Ledger.V1.RecordTradeRequest
        {
            ClientOrderId = "earlier-order", Venue = "binance", ExchangeTradeId = "5000001", Symbol = "BTCUSDT",
            Side = TradeEngine.Ledger.V1.TradeSide.Buy, Price = "90000", Quantity = "0.5", Fee = "0",
            ExecutedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
        };
        await stack.Ledger.RecordTradeAsync(taken);

        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01"));

        Assert.NotEmpty(opened.PositionId);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND position_id = $1::uuid AND quantity = 0.01", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "trades WHERE position_id = $1::uuid AND exchange_trade_id = 'order-' || $2 AND quantity = 0.01", opened.PositionId, opened.VenueOrderId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE exchange_trade_id = '5000001' AND client_order_id = 'earlier-order'"));

        var closed = await stack.Execution.ClosePositionAsync(Orders.Close());

        Assert.Equal(opened.PositionId, closed.PositionId);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND position_id = $1::uuid", opened.PositionId));
        Assert.Equal(2, await stack.CountAsync("trades WHERE position_id = $1::uuid", opened.PositionId));
    }

    /// <summary>
    /// The open's liquidation price (the plan's estimate) is rounded to the symbol's tick where that is finer than a cent:
    /// DOGEUSDT's is 0.00001, and at its 0.15 a 3× long's 0.1006 was answered as 0.10 (toward the entry: up for a long).
    /// </summary>
    [Fact]
    public async Task OpenPosition_OnACheapSymbol_LiquidationPriceToTheSymbolsTick()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);

        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "DOGEUSDT", quantity: "100", leverage: 3));

        var entry = decimal.Parse(opened.EntryPrice, System.Globalization.CultureInfo.InvariantCulture);
        var expected = Math.Ceiling(entry * (3m - 1m + 3m * 0.004m) / (3m * 0.00001m)) * 0.00001m;
        Assert.Equal(expected, decimal.Parse(opened.LiquidationPrice, System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(Math.Round(expected, 2), expected);
    }

    [Fact]
    public async Task OpenPosition_ThenClosePosition_LedgerRowsEventsAndProtectiveOrdersFollowThePosition()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(quantity: "0.01", leverage: 3, stopLoss: "95000", takeProfit: "110000");

        var opened = await stack.Execution.OpenPositionAsync(open);

        Assert.Empty(opened.Denials);
        Assert.False(opened.Replayed);
        Assert.Equal("100000", opened.EntryPrice);
        Assert.Equal("0.01", opened.Quantity);
        Assert.NotEmpty(opened.PositionId);
        // The plan's simple liquidation price at 3x: 100,000 x (1 - 1/3 + 0.004) = 67,066.67, the figure Risk serves.
        Assert.Equal("67066.67", opened.LiquidationPrice);
        var riskSays = await stack.Risk.GetLiquidationPriceAsync(new TradeEngine.Risk.V1.GetLiquidationPriceRequest
        {
            Method = TradeEngine.Risk.V1.LiquidationMethod.Simple, Symbol = "BTCUSDT", Side = open.Side, EntryPrice = opened.EntryPrice, Leverage = 3,
        });
        Assert.Equal(riskSays.LiquidationPrice, opened.LiquidationPrice);
        // The rate and the daily estimate come from one Funding answer: BTCUSDT pays 0.0001 three times a day, so
        // 0.01 BTC at 100,000 costs 0.01 x 100,000 x 0.0001 x 3 = 0.30 a day.
        Assert.Equal(0.0001m, decimal.Parse(opened.FundingRate, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0.30m, decimal.Parse(opened.EstimatedDailyFunding, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
        // Each fill is recorded under the venue's own trade id, linked to the position, with the venue's price and size.
        var fills = (await stack.Venue().GetUserTradesAsync(new UserTradesQuery("BTCUSDT", Limit: 1000)))
            .Where(t => t.OrderId.ToString(System.Globalization.CultureInfo.InvariantCulture) == opened.VenueOrderId).ToList();
        Assert.NotEmpty(fills);
        foreach (var fill in fills)
        {
            Assert.Equal(1, await stack.CountAsync(
                "trades WHERE exchange_trade_id = $1 AND position_id = $2::uuid AND quantity = $3 AND price = $4 AND fee = $5",
                fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), opened.PositionId, fill.Qty, fill.Price, fill.Commission));
        }

        var venueOrders = await OpenConditionalAsync(stack);
        Assert.Equal(2, venueOrders);

        var closed = await stack.Execution.ClosePositionAsync(Orders.Close());

        Assert.Equal(opened.PositionId, closed.PositionId);
        Assert.Equal("0.01", closed.Quantity);
        Assert.NotEmpty(closed.RealizedPnl);
        Assert.Equal(0, await OpenConditionalAsync(stack));
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND position_id = $1::uuid", opened.PositionId));
        Assert.Equal(2, await stack.CountAsync("trades"));
        // The closing fill too is the venue's own trade, on the selling side, linked to the position.
        Assert.Equal(0, await stack.CountAsync("trades WHERE exchange_trade_id LIKE 'order-%'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE side = 'sell' AND position_id = $1::uuid", opened.PositionId));
        await stack.Events.Received.WaitForAsync(
            r => r.Of<PositionOpened>().Count >= 1 && r.Of<PositionClosed>().Count >= 1, TimeSpan.FromSeconds(20));
        await Task.Delay(500);
        Assert.Single(stack.Events.Received.Of<PositionOpened>(), e => e.PositionId == Guid.Parse(opened.PositionId));
        Assert.Single(stack.Events.Received.Of<PositionClosed>(), e => e.PositionId == Guid.Parse(opened.PositionId));
    }

    [Fact]
    public async Task OpenPosition_SameClientOrderIdTwiceConcurrently_OneOrderAndTheSecondAnswerReplays()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(quantity: "0.01");

        var answers = await Task.WhenAll(
            stack.Execution.OpenPositionAsync(open).ResponseAsync,
            stack.Execution.OpenPositionAsync(open).ResponseAsync);
        var retry = await stack.Execution.OpenPositionAsync(open);

        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(answers[0].PositionId, answers[1].PositionId);
        Assert.Single(answers, a => a.Replayed);
        Assert.True(retry.Replayed);
        Assert.Equal(answers[0].EntryPrice, retry.EntryPrice);
        Assert.Equal("0.01", (await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "BTCUSDT" })).Quantity);
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
    }

    [Fact]
    public async Task OpenPosition_Venue503AfterPlacingTheOrder_OneOrderAndOnePosition()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.UnknownAfterExecute, "/fapi/v1/order");
        var open = Orders.Open(quantity: "0.01");

        var opened = await stack.Execution.OpenPositionAsync(open);

        Assert.Empty(opened.Denials);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal("0.01", (await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "BTCUSDT" })).Quantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open'"));
    }

    [Fact]
    public async Task ReducePosition_ByFractionThenByQuantity_VenueAndLedgerShrinkTogether()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));

        var half = await stack.Execution.ReducePositionAsync(new ReducePositionRequest
        {
            ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.5", Reason = "test",
        });
        var part = await stack.Execution.ReducePositionAsync(new ReducePositionRequest
        {
            ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.2", Reason = "test",
        });

        Assert.Equal(("0.5", "0.5"), (half.ReducedQuantity, half.RemainingQuantity));
        Assert.Equal(("0.2", "0.3"), (part.ReducedQuantity, part.RemainingQuantity));
        Assert.Equal("0.3", (await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" })).Quantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.3"));
    }

    /// <summary>A stream for a symbol the venue does not list is refused; before, it opened and never sent anything.</summary>
    [Theory]
    [InlineData("btcusdt")]
    [InlineData("NOPEUSDT")]
    public async Task StreamPositionUpdates_UnlistedSymbol_InvalidArgumentNamingSymbol(string symbol)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = stack.Execution.StreamPositionUpdates(new StreamPositionUpdatesRequest { Symbol = symbol }, cancellationToken: cts.Token);

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cts.Token));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("symbol", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamPositionUpdates_OpenAddAndClose_SendsSnapshotChangedOpenedAndClosed()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = stack.Execution.StreamPositionUpdates(new StreamPositionUpdatesRequest(), cancellationToken: cts.Token);
        var stream = call.ResponseStream;

        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Snapshot, "ETHUSDT"), (stream.Current.Kind, stream.Current.Position.Symbol));
        // An add changes the position that stood (before, it was sent as OPENED).
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5"));
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Changed, "ETHUSDT", "1.5"), (stream.Current.Kind, stream.Current.Position.Symbol, stream.Current.Position.Quantity));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Opened, "BTCUSDT"), (stream.Current.Kind, stream.Current.Position.Symbol));
        await stack.Execution.ClosePositionAsync(Orders.Close("BTCUSDT"));
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Closed, "BTCUSDT"), (stream.Current.Kind, stream.Current.Position.Symbol));
    }

    /// <summary>
    /// An open whose stop-loss is refused is closed at once: the stream shows it OPENED, then CLOSED. Before, only the
    /// CLOSED came (of a position the subscriber never saw open), and a close at once that filled in part left a
    /// position standing that the stream never showed.
    /// </summary>
    [Fact]
    public async Task StreamPositionUpdates_StopLossRefusedAndClosedAtOnce_SendsOpenedThenClosed()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = stack.Execution.StreamPositionUpdates(new StreamPositionUpdatesRequest(), cancellationToken: cts.Token);
        var stream = call.ResponseStream;
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(stack.ExecutionHost.Services.GetRequiredService<TradeEngine.Execution.Streaming.PositionUpdateHub>().SubscriberCount > 0),
            TimeSpan.FromSeconds(10), "the subscription");
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Reject, "POST /fapi/v1/algoOrder", 1);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");

        await Orders.FailsWith(StatusCode.Aborted, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Opened, "BTCUSDT", "0.01"), (stream.Current.Kind, stream.Current.Position.Symbol, stream.Current.Position.Quantity));
        var positionId = stream.Current.Position.PositionId;
        Assert.NotEmpty(positionId);
        // The stop-loss asked for was refused: the update does not show it.
        Assert.Empty(stream.Current.Position.StopLossPrice);
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Closed, "BTCUSDT", positionId), (stream.Current.Kind, stream.Current.Position.Symbol, stream.Current.Position.PositionId));
    }

    private static async Task<int> OpenConditionalAsync(ExecutionStack stack)
    {
        var client = new Binance.BinanceClient(
            new HttpClient { BaseAddress = stack.Paper.Address },
            Microsoft.Extensions.Options.Options.Create(new Binance.BinanceOptions
            {
                BaseUrl = stack.Paper.Address.ToString(), ApiKey = PaperExchangeHost.ApiKey, ApiSecret = PaperExchangeHost.ApiSecret,
            }));
        return (await client.GetOpenConditionalOrdersAsync("BTCUSDT")).Count;
    }
}
