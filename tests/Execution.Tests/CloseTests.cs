using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests;

/// <summary>A close is booked as a close only when the venue closed the position with it.</summary>
[Collection(StackCollection.Name)]
public sealed class CloseTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// ClosePosition with the client order id of an earlier reduce: that order did not close the position (it is still
    /// open), so it is not taken as the close. Before, the answer was a replayed close and the Ledger closed the record
    /// at the reduce's price while the venue still held half.
    /// </summary>
    /// <remarks>
    /// In one process the id is refused by the key space open, close and reduce share; after a restart (that memory
    /// gone) by the venue's order found under it.
    /// </remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClosePosition_WithAnEarlierReducesClientOrderId_AlreadyExistsAndNothingBooked(bool restarted)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1"));
        var reduceId = Orders.NewId("r");
        await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Fraction = "0.5" });
        if (restarted)
        {
            await stack.StopExecutionAsync();
            await stack.StartExecutionAsync();
        }

        var refused = await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.ClosePositionAsync(
            new ClosePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Reason = "reused id" }).ResponseAsync);

        Assert.StartsWith(restarted ? $"client_order_id: {reduceId} is order " : $"client_order_id: '{reduceId}' was already used", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0.5m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.5"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>A stack whose Execution reads BTCUSDT's MARKET_LOT_SIZE as 0.002..0.004 (the step stays 0.001).</summary>
    /// <summary>A Reduce margin alert, as the margin monitor publishes it.</summary>
    private static Task PublishReduceAlertAsync(ExecutionStack stack) =>
        stack.ExecutionHost.Services.GetRequiredService<MassTransit.IBus>().Publish(new TradeEngine.Contracts.Events.MarginAlertRaised(
            MassTransit.NewId.NextGuid(), DateTimeOffset.UtcNow, TradeEngine.Contracts.Events.MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio in the buffer"));

    private Task<ExecutionStack> StartWithBtcMarketLotSizeAsync() =>
        ExecutionStack.StartAsync(postgres, rabbit,
            executionServices: s => VenueProxy.Install(s, real => VenueProxy.Wrap(real, VenueProxy.MarketLotSize("BTCUSDT", 0.002m, 0.004m))));

    /// <summary>
    /// A Reduce margin alert whose half of the largest position is below the symbol's market order minimum (a minimum above
    /// LOT_SIZE's, which the plan halves by): the position is closed whole. Before, the reduce was refused (INVALID_ARGUMENT)
    /// on every delivery, and the margin call went unanswered.
    /// </summary>
    [Fact]
    public async Task MarginReduceAlert_HalfBelowTheMarketMinimum_ThePositionIsClosedWhole()
    {
        await using var stack = await StartWithBtcMarketLotSizeAsync();
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.003"));

        // Half of 0.003 is 0.001 on the lot's step: below the market minimum 0.002.
        await PublishReduceAlertAsync(stack);

        await ExecutionStack.WaitUntilAsync(async () => (await stack.Venue().GetPositionsAsync("BTCUSDT")).All(p => p.PositionAmt == 0m),
            TimeSpan.FromSeconds(30), "the margin alert to close the position");
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'closed'") == 1,
            TimeSpan.FromSeconds(10), "the close to be recorded");
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
    }

    /// <summary>
    /// A Reduce margin alert whose half of the largest position is above the symbol's market order maximum: reduced by the
    /// maximum. Before, the reduce of the half was refused (INVALID_ARGUMENT) on every delivery.
    /// </summary>
    [Fact]
    public async Task MarginReduceAlert_HalfAboveTheMarketMaximum_ReducedByTheMaximum()
    {
        await using var stack = await StartWithBtcMarketLotSizeAsync();
        foreach (var quantity in new[] { "0.004", "0.004", "0.002" })
        {
            await stack.Execution.OpenPositionAsync(Orders.Open(quantity: quantity));
        }

        // Half of 0.010 is 0.005: above the market maximum 0.004.
        await PublishReduceAlertAsync(stack);

        await ExecutionStack.WaitUntilAsync(async () => (await stack.Venue().GetPositionsAsync("BTCUSDT")).Any(p => p.PositionAmt == 0.006m),
            TimeSpan.FromSeconds(30), "the margin alert to reduce the position by 0.004");
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'open' AND quantity = 0.006") == 1,
            TimeSpan.FromSeconds(10), "the reduce to be recorded");
    }

    /// <summary>
    /// MARKET_LOT_SIZE binds a reduce's market order as any other: a reduce outside it is refused before anything is sent
    /// (a quantity as INVALID_ARGUMENT naming it, a fraction's amount as FAILED_PRECONDITION naming the fraction), and one
    /// inside it goes through. Before, the order was sent and the venue refused it (-4004, -4005).
    /// </summary>
    [Fact]
    public async Task ReducePosition_OutsideTheMarketLotSize_RefusedAndNothingSent_InsideItReduces()
    {
        await using var stack = await StartWithBtcMarketLotSizeAsync();
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.004"));
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.004"));
        var orders = await stack.OrderRequestsAsync();
        ReducePositionRequest Reduce(string? fraction = null, string? quantity = null)
        {
            var request = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "BTCUSDT", Reason = "test" };
            if (fraction is not null)
            {
                request.Fraction = fraction;
            }
            else
            {
                request.Quantity = quantity;
            }

            return request;
        }

        await Orders.InvalidArgument("quantity", () => stack.Execution.ReducePositionAsync(Reduce(quantity: "0.001")).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => stack.Execution.ReducePositionAsync(Reduce(quantity: "0.005")).ResponseAsync);
        var byFraction = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.ReducePositionAsync(Reduce(fraction: "0.75")).ResponseAsync);
        Assert.Equal(orders, await stack.OrderRequestsAsync());
        var reduced = await stack.Execution.ReducePositionAsync(Reduce(fraction: "0.5"));

        Assert.StartsWith("fraction: reduces 0.006 of the 0.008 BTCUSDT position, and a market order's quantity must be from 0.002 to 0.004", byFraction.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(("0.004", "0.004"), (reduced.ReducedQuantity, reduced.RemainingQuantity));
        Assert.Equal(0.004m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
    }

    /// <summary>
    /// A reduce must leave what a market order can close: with MARKET_LOT_SIZE's minimum (0.002) above the step (0.001),
    /// reducing 0.004 of 0.005 would leave 0.001, which no market order could close (a close, or the kill switch's
    /// flatten, would be refused for it): FAILED_PRECONDITION saying so, nothing sent. Leaving 0.002 goes through.
    /// </summary>
    [Fact]
    public async Task ReducePosition_LeavingLessThanTheMarketMinimum_RefusedAndNothingSent()
    {
        await using var stack = await StartWithBtcMarketLotSizeAsync();
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.003"));
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.002"));
        var orders = await stack.OrderRequestsAsync();
        ReducePositionRequest Reduce(string quantity) =>
            new() { ClientOrderId = Orders.NewId("r"), Symbol = "BTCUSDT", Reason = "test", Quantity = quantity };

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.ReducePositionAsync(Reduce("0.004")).ResponseAsync);

        Assert.StartsWith("quantity: reduces 0.004 of the 0.005 BTCUSDT position and leaves 0.001, below the symbol's market order minimum 0.002",
            refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(orders, await stack.OrderRequestsAsync());
        var reduced = await stack.Execution.ReducePositionAsync(Reduce("0.003"));
        Assert.Equal(("0.003", "0.002"), (reduced.ReducedQuantity, reduced.RemainingQuantity));
        Assert.Equal(0.002m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
    }

    /// <summary>
    /// A reduce while the Ledger's record is smaller than the venue's position (an add made by hand at the venue, not yet
    /// reconciled): the symbol is reconciled first (the add booked, a risk event logged), then the reduce is judged and
    /// booked against the repaired record, and the two agree after it. Before, half of the venue's 2 was 1, the record's
    /// whole size: the Ledger refused the reduce after its fill, or the record closed while the venue still held 1.
    /// </summary>
    [Fact]
    public async Task ReducePosition_LedgerRecordSmallerThanTheVenuesPosition_ReconciledFirstThenBookedAgainstIt()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await OpenWithAnAddMadeByHandAsync(stack);
        var mismatchesBefore = await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'");

        var reduced = await stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.5", Reason = "test" });

        Assert.Equal("1", reduced.ReducedQuantity);
        Assert.Equal("1", reduced.RemainingQuantity);
        Assert.NotEmpty(reduced.PositionId);
        Assert.NotEmpty(reduced.RealizedPnl);
        Assert.Equal(1m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.True(await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'") > mismatchesBefore,
            "the size difference was not reported as a risk event");
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A reduce whose repair fails (the Ledger's record differs from the venue's position, and the reconciliation the
    /// reduce runs first cannot read the venue's protective orders): UNAVAILABLE, nothing sent and nothing booked, the
    /// record left as it was for the minute's pass; the same request once the venue answers again is repaired and
    /// booked. Guards the branch that answers rather than booking a reduce against a record it knows is wrong.
    /// </summary>
    [Fact]
    public async Task ReducePosition_RecordDiffersAndTheRepairFails_UnavailableNothingSentThenTheRetryIsBooked()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await OpenWithAnAddMadeByHandAsync(stack);
        var requests = await stack.OrderRequestsAsync();
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/openAlgoOrders", count: 1_000);
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.5", Reason = "test" };

        var failed = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.ReducePositionAsync(reduce).ResponseAsync);

        Assert.StartsWith("ledger: ", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("nothing was sent", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Empty(await stack.Paper.OrdersAsync(reduce.ClientOrderId));
        Assert.Equal(2m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", reduce.ClientOrderId));

        await stack.Paper.ClearFaultsAsync();
        var reduced = await stack.Execution.ReducePositionAsync(reduce);

        Assert.Equal(("1", "1"), (reduced.ReducedQuantity, reduced.RemainingQuantity));
        Assert.Single(await stack.Paper.OrdersAsync(reduce.ClientOrderId));
        Assert.Equal(1m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A reduce that the live position makes impossible (the whole position or more, or less than one step of it) is
    /// FAILED_PRECONDITION naming the field, and nothing is sent. Before, INVALID_ARGUMENT: the same request is well
    /// formed and passes against another size.
    /// </summary>
    [Fact]
    public async Task ReducePosition_AmountTheLivePositionDoesNotAllow_FailedPreconditionAndNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5"));
        var before = await stack.OrderRequestsAsync();

        var whole = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.5" }).ResponseAsync);
        var dust = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.0001" }).ResponseAsync);

        Assert.StartsWith("quantity: must leave part of the 0.5 ETHUSDT position", whole.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("fraction: reduces less than one step", dust.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await stack.OrderRequestsAsync());
        Assert.Equal(0.5m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
    }

    /// <summary>
    /// A close while the Ledger's record is smaller than the venue's position (an add made by hand at the venue, not yet
    /// reconciled): the add is booked first, with its fill, so the closed record holds the whole position the close took
    /// off the venue. Before, the record was closed at its own size and the add's fill and PnL were never booked.
    /// </summary>
    [Fact]
    public async Task ClosePosition_LedgerRecordSmallerThanTheVenuesPosition_TheAddIsBookedBeforeTheClose()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1"));
        var byHand = Orders.NewId("by-hand");
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), byHand);

        await stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT", Reason = "test" });

        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT' AND quantity = 2"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", byHand));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The position shrinks (a reduce by hand) while the close's order is on its way: the reduce-only order fills only
    /// what is left and expires. That part is booked as a reduce and the answer is ABORTED, not a close of the whole
    /// record at the part's size.
    /// </summary>
    [Fact]
    public async Task ClosePosition_VenueFillsOnlyPartOfTheClose_BookedAsAReduceAndAborted()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        var inFlight = await CloseHeldAtItsOrderAsync(stack, "BTCUSDT", latencyMs: 4_000);
        await stack.Venue().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.004m, ReduceOnly: true), "by-hand-reduce");

        var aborted = await Orders.FailsWith(StatusCode.Aborted, () => inFlight);

        Assert.Contains("filled 0.006 of the 0.01 BTCUSDT close", aborted.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("the venue now holds 0", aborted.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT' AND quantity = 0.004"));
        // The reduce by hand is the venue's own change: the next reconciliation closes what the Ledger still holds.
        Assert.Equal(1, await stack.ReconcileAsync());
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
    }

    /// <summary>
    /// The venue refuses the close's order: the position keeps its stop-loss and take-profit. Before, they were cancelled
    /// before the order was sent, and a refused, unfilled or unknown close left the position open and unguarded until
    /// reconciliation put them back.
    /// </summary>
    [Fact]
    public async Task ClosePosition_VenueRefusesTheCloseOrder_StopLossAndTakeProfitStillGuardThePosition()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000", takeProfit: "150000"));
        // The close looks its id up first (GET, held here), then sends its order (POST): the refusal is queued once the
        // look-up has arrived, so it meets the order.
        var looked = await stack.Paper.RequestCountAsync("GET /fapi/v1/order");
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", latencyMs: 1_500);
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "BTCUSDT", Reason = "test" };
        var inFlight = stack.Execution.ClosePositionAsync(close).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("GET /fapi/v1/order") > looked, TimeSpan.FromSeconds(10), "the close's look-up");
        await stack.Paper.InjectFaultAsync(FaultKind.Reject, "/fapi/v1/order", status: 400, code: -2022);

        await Assert.ThrowsAsync<RpcException>(() => inFlight);

        Assert.Empty(await stack.Paper.OrdersAsync(close.ClientOrderId));
        Assert.Equal(0.01m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        var guards = await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT");
        Assert.Contains(guards, o => o.Type == ConditionalOrderType.StopMarket && o.TriggerPrice == 95000m);
        Assert.Contains(guards, o => o.Type == ConditionalOrderType.TakeProfitMarket && o.TriggerPrice == 150000m);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT'"));
    }

    /// <summary>
    /// The position closes at the venue by another order (here by hand; a stop-loss firing is the same) while the close's
    /// order is on its way: the reduce-only order is refused (-2022), and the answer is NOT_FOUND saying the position
    /// closed at the venue, as for a close that came a moment later. Before, it was the venue's refusal, and close-all
    /// counted the symbol as failed.
    /// </summary>
    [Fact]
    public async Task ClosePosition_PositionClosesAtTheVenueWhileTheOrderIsOnItsWay_NotFoundSayingItClosed()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        var inFlight = await CloseHeldAtItsOrderAsync(stack, "BTCUSDT", latencyMs: 3_000);
        await stack.Venue().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.01m, ReduceOnly: true), "by-hand-close");

        var gone = await Orders.FailsWith(StatusCode.NotFound, () => inFlight);

        Assert.Contains("it closed at the venue", gone.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
        Assert.Equal(1, await stack.ReconcileAsync());
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'BTCUSDT'"));
    }

    /// <summary>
    /// As the close above, for a reduce: the position closes at the venue while the reduce's order is on its way, and the
    /// answer is NOT_FOUND saying so. Before, it was the venue's refusal (-2022) as FAILED_PRECONDITION.
    /// </summary>
    [Fact]
    public async Task ReducePosition_PositionClosesAtTheVenueWhileTheOrderIsOnItsWay_NotFoundSayingItClosed()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", 2, latencyMs: 3_000);
        var sent = await stack.Paper.RequestCountAsync("POST /fapi/v1/order");
        var inFlight = stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "BTCUSDT", Quantity = "0.005", Reason = "test" }).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("POST /fapi/v1/order") > sent, TimeSpan.FromSeconds(10), "the reduce's order");
        await stack.Venue().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.01m, ReduceOnly: true), "by-hand-close");

        var gone = await Orders.FailsWith(StatusCode.NotFound, () => inFlight);

        Assert.Contains("it closed at the venue", gone.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
    }

    /// <summary>
    /// A reduce of a position the Ledger has no record of (opened by hand, not yet adopted by reconciliation): the venue
    /// reduces it, and the answer's realized PnL is empty with a warning saying why. Before, it answered "0", whatever the
    /// reduce realized.
    /// </summary>
    [Fact]
    public async Task ReducePosition_PositionTheLedgerLacks_RealizedPnlEmptyWithAWarning()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.2m), "by-hand-open");

        var reduced = await stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.1", Reason = "test" });

        Assert.Equal(("0.1", "0.1", string.Empty, string.Empty), (reduced.ReducedQuantity, reduced.RemainingQuantity, reduced.RealizedPnl, reduced.PositionId));
        Assert.StartsWith("ledger: the Ledger has no open record of this position", Assert.Single(reduced.Warnings), StringComparison.Ordinal);
        Assert.Equal(0.1m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
    }

    /// <summary>
    /// The close fills and then the venue refuses to cancel the symbol's protective orders: the close stands and is
    /// recorded, and the answer warns (reconciliation cancels orders left on a symbol with no position).
    /// </summary>
    [Fact]
    public async Task ClosePosition_ProtectiveOrdersCannotBeCancelledAfterTheFill_ClosedAndRecordedWithAWarning()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        // The cancel and its re-sync retry.
        await stack.Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v1/algoOpenOrders", 2);

        var closed = await stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "BTCUSDT", Reason = "test" });

        Assert.Equal("0.01", closed.Quantity);
        Assert.Contains(closed.Warnings, w => w.StartsWith("orders: BTCUSDT's open orders could not be cancelled after the close", StringComparison.Ordinal));
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'BTCUSDT'"));
    }

    /// <summary>
    /// The venue will not list the close's fills (the read and its retry fail): the close still lands in the Ledger, as
    /// one trade at the order's average price, and is answered. Before, the caller got UNAVAILABLE for a close that
    /// happened and nothing was recorded until a reconciliation booked it at the mark.
    /// </summary>
    [Fact]
    public async Task ClosePosition_FillsCannotBeRead_RecordedAsOneTradeAndAnswered()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/userTrades", 2);
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT", Reason = "test" };

        var closed = await stack.Execution.ClosePositionAsync(close);

        Assert.Equal("0.2", closed.Quantity);
        Assert.NotEqual(string.Empty, closed.RealizedPnl);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND quantity = 0.2", close.ClientOrderId));
    }

    /// <summary>
    /// A reduce of a position whose entry was averaged over an add (3000.66666667), its fills unreadable: the one trade
    /// row carries the realized PnL rounded to 8 places (0.5 × 0.33333333 = 0.166666665 → 0.16666667). Before, the
    /// unrounded figure went to the Ledger, which refused it for its 8 places after the venue had reduced, and the call
    /// answered INVALID_ARGUMENT naming realized_pnl, a field the caller never sent.
    /// </summary>
    [Fact]
    public async Task ReducePosition_AveragedEntryAndFillsCannotBeRead_RealizedPnlRoundedTo8PlacesAndRecorded()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.SetPriceAsync("ETHUSDT", 3000m);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        await stack.Paper.SetPriceAsync("ETHUSDT", 3001m);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "2", leverage: 2));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND entry_price = 3000.66666667"));
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/userTrades", 2);
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.5", Reason = "test" };

        var reduced = await stack.Execution.ReducePositionAsync(reduce);

        Assert.Equal(("0.5", "2.5"), (reduced.ReducedQuantity, reduced.RemainingQuantity));
        Assert.Equal(0.16666667m, decimal.Parse(reduced.RealizedPnl, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND realized_pnl = 0.16666667", reduce.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 2.5"));
    }

    /// <summary>
    /// A reduce that was booked, retried after a restart once its position has closed: answered from its trades (the
    /// record it reduced and the PnL it realized). Before, the retry found no open record and answered an empty position
    /// id and PnL 0, and logged a false "reduce-unrecorded" mismatch.
    /// </summary>
    [Fact]
    public async Task ReducePosition_BookedThenPositionClosedThenRetriedAfterARestart_AnswersTheReduceNoFalseMismatch()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduce, first) = await ReduceThenCloseThenRestartAsync(stack);

        var retried = await stack.Execution.ReducePositionAsync(reduce);

        Assert.True(retried.Replayed);
        Assert.Equal((opened.PositionId, first.RealizedPnl, "0.4", "0"), (retried.PositionId, retried.RealizedPnl, retried.ReducedQuantity, retried.RemainingQuantity));
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", reduce.ClientOrderId));
        Assert.Single(await stack.Paper.OrdersAsync(reduce.ClientOrderId));
    }

    /// <summary>
    /// The same retry while the Ledger is down: the recording waits behind the queue and, once the Ledger is back, finds
    /// the reduce booked. Before, the queued path found no open record and logged a false "reduce-unrecorded" mismatch.
    /// </summary>
    [Fact]
    public async Task ReducePosition_BookedThenPositionClosedThenRetriedAfterARestartWhileTheLedgerIsDown_NoFalseMismatch()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (_, reduce, _) = await ReduceThenCloseThenRestartAsync(stack);
        await RetryWhileTheLedgerIsDownAsync(stack, async () =>
        {
            var retried = await stack.Execution.ReducePositionAsync(reduce);
            return (retried.Replayed, retried.Warnings);
        });

        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", reduce.ClientOrderId));
    }

    /// <summary>
    /// A close's client order id given to a reduce by fraction after a restart (the in-process key space that refuses it
    /// is gone, and a fraction cannot be checked against a position that no longer stands): ALREADY_EXISTS naming the
    /// close, nothing sent. Before, it was answered as a replayed reduce with the close's figures.
    /// </summary>
    [Fact]
    public async Task ReducePosition_ByFractionWithACloseIdAfterARestart_AlreadyExistsNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (close, closed) = await OpenAndCloseAsync(stack, restart: true);
        var ordersBefore = (await stack.Paper.OrdersAsync()).Count;

        var ex = await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = close.ClientOrderId, Symbol = "ETHUSDT", Fraction = "0.5" }).ResponseAsync);

        Assert.Contains("client_order_id", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(closed.PositionId, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(ordersBefore, (await stack.Paper.OrdersAsync()).Count);
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
    }

    /// <summary>
    /// The Ledger stops after the close read its record and before the close is written: past the inline budget the
    /// write is queued, and the answer says so (it had no warning and empty figures).
    /// </summary>
    [Fact]
    public async Task ClosePosition_LedgerStopsBeforeTheWrite_AnswerWarnsTheCloseIsQueuedAndItLands()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: new Dictionary<string, string?>
        {
            ["Execution:LedgerWriteInlineBudget"] = "00:00:01",
        });
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 5_000);
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT", Reason = "test" };
        var inFlight = stack.Execution.ClosePositionAsync(close).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(close.ClientOrderId)).Count > 0, TimeSpan.FromSeconds(20), "the close's fill");
        await stack.StopLedgerAsync();
        Assert.False(inFlight.IsCompleted); // the Ledger was down before the close's write began

        var closed = await inFlight;

        Assert.Contains(closed.Warnings, w => w.StartsWith("ledger: ", StringComparison.Ordinal));
        await stack.StartLedgerAsync();
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'") == 1,
            TimeSpan.FromSeconds(30), "the queued close");
    }

    /// <summary>
    /// A close retried after a restart, once a new position has been opened on the symbol: the retry answers the first
    /// close. Before, it recorded the old order as the close of the new position's record, while the venue held it.
    /// </summary>
    [Fact]
    public async Task ClosePosition_RetriedAfterARestartAndANewOpen_AnswersTheFirstCloseAndLeavesTheNewPositionOpen()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (close, first) = await OpenAndCloseAsync(stack);
        // The new position has its own stop-loss and take-profit: the retry of the old close must leave them (a close
        // cancels the symbol's orders once it has filled, and on a resume only while the venue is flat).
        var reopened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.3", stopLoss: "2000", takeProfit: "9000"));
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();

        var retried = await stack.Execution.ClosePositionAsync(close);

        Assert.True(retried.Replayed);
        Assert.Equal(2, (await stack.Venue().GetOpenConditionalOrdersAsync("ETHUSDT")).Count);
        Assert.Equal((first.PositionId, first.Quantity), (retried.PositionId, retried.Quantity));
        Assert.Equal(0.3m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND position_id = $1::uuid AND quantity = 0.3", reopened.PositionId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A close retried after a restart, when a later position on the symbol has been opened and closed since: the retry
    /// answers with its own record. Before, it took the last record closed since its fill, the later position's, and
    /// answered with that position's id, PnL, fees and funding.
    /// </summary>
    [Fact]
    public async Task ClosePosition_RetriedAfterARestartWhenALaterPositionClosedToo_AnswersItsOwnRecord()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (close, first) = await OpenAndCloseAsync(stack);
        await stack.Paper.SetPriceAsync("ETHUSDT", 3_150m);
        var (_, later) = await OpenAndCloseAsync(stack, restart: true);

        var retried = await stack.Execution.ClosePositionAsync(close);

        Assert.True(retried.Replayed);
        Assert.NotEqual(first.PositionId, later.PositionId);
        Assert.Equal((first.PositionId, first.RealizedPnl, first.Fees), (retried.PositionId, retried.RealizedPnl, retried.Fees));
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
    }

    /// <summary>
    /// A recorded close retried after a restart while the Ledger is down: the retry's recording waits behind the queue,
    /// and once the Ledger is back it finds the close on record. Before, the queued path did not look at the closed
    /// records (the inline path did) and logged a false "close-unrecorded" mismatch.
    /// </summary>
    [Fact]
    public async Task ClosePosition_RecordedThenRetriedAfterARestartWhileTheLedgerIsDown_NoFalseMismatch()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (close, first) = await OpenAndCloseAsync(stack, restart: true);
        await RetryWhileTheLedgerIsDownAsync(stack, async () =>
        {
            var retried = await stack.Execution.ClosePositionAsync(close);
            return (retried.Replayed, retried.Warnings);
        });

        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT' AND position_id = $1::uuid", first.PositionId));
    }

    /// <summary>
    /// A close of a position the Ledger never had (opened by hand), retried after a crash: the symbol's older closed
    /// record is not the one it closed, so the close is reported unrecorded. Before, the retry took the last closed
    /// record, whenever it closed, answered with its id, and the mismatch was never logged.
    /// </summary>
    [Fact]
    public async Task ClosePosition_RetriedAfterACrashWithOnlyAnOlderClosedRecord_ReportedUnrecorded()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (_, older) = await OpenAndCloseAsync(stack);
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.3m), "by-hand-open");
        // Held after the fill: the cancel of the symbol's orders, which comes before the close is recorded.
        var close = await CloseDyingAfterTheFillAsync(stack, "/fapi/v1/allOpenOrders");

        var retried = await stack.Execution.ClosePositionAsync(close);

        Assert.True(retried.Replayed);
        Assert.NotEqual(older.PositionId, retried.PositionId);
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch' AND reason LIKE 'Closed ETHUSDT at the venue, but the Ledger had no open record%'"));
    }

    /// <summary>
    /// Execution dies after the close filled and before it was recorded; on the restart the reconciliation records the
    /// venue's close. The client's retry then answers that close, not FAILED_PRECONDITION "already closed". Also when
    /// the reconciliation recorded it as liquidated (a liquidation order among the venue's closing fills): the retry
    /// looked for closed records only, and logged a false "close-unrecorded" mismatch.
    /// </summary>
    [Theory]
    [InlineData("closed")]
    [InlineData("liquidated")]
    public async Task ClosePosition_RetriedAfterACrashTheReconciliationRecorded_AnswersTheClose(string recordedAs)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        var close = await CloseDyingAfterTheFillAsync(stack, "/fapi/v1/userTrades");
        // Recorded by the restart's reconciliation (the first attempt died before its write), not by the first attempt.
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE status = 'closed' AND position_id = $1::uuid AND exit_reason LIKE 'venue: closed by its own order%'", opened.PositionId));
        // The simulator liquidates whole positions only, so the record a liquidation was part of is put in that state here.
        Assert.Equal(1, await stack.ExecuteAsync("UPDATE positions SET status = $2 WHERE position_id = $1::uuid", opened.PositionId, recordedAs));

        var retried = await stack.Execution.ClosePositionAsync(close);

        Assert.True(retried.Replayed);
        Assert.Equal((opened.PositionId, "0.2"), (retried.PositionId, retried.Quantity));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = $2 AND position_id = $1::uuid", opened.PositionId, recordedAs));
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE reason LIKE 'Closed ETHUSDT at the venue, but the Ledger had no open record%'"));
    }

    /// <summary>
    /// Opens 1 ETHUSDT, reduces it by 0.4 at 3,100 (booked), closes the rest and restarts Execution: the open's answer, the
    /// reduce's request (to retry it) and its answer.
    /// </summary>
    private static async Task<(OpenPositionResponse Opened, ReducePositionRequest Reduce, ReducePositionResponse First)> ReduceThenCloseThenRestartAsync(
        ExecutionStack stack)
    {
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        await stack.Paper.SetPriceAsync("ETHUSDT", 3100m);
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.4", Reason = "test" };
        var first = await stack.Execution.ReducePositionAsync(reduce);
        Assert.Equal(opened.PositionId, first.PositionId);
        await stack.Execution.ClosePositionAsync(Orders.Close("ETHUSDT"));
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        return (opened, reduce, first);
    }

    /// <summary>
    /// Stops the Ledger, makes <paramref name="retry"/> (a replay whose recording must wait: replayed, with the Ledger's
    /// warning, and queued), starts the Ledger again and waits until the queue has landed.
    /// </summary>
    private static async Task RetryWhileTheLedgerIsDownAsync(ExecutionStack stack, Func<Task<(bool Replayed, IEnumerable<string> Warnings)>> retry)
    {
        await stack.StopLedgerAsync();
        var (replayed, warnings) = await retry();
        Assert.True(replayed);
        Assert.Contains(warnings, w => w.StartsWith("ledger: ", StringComparison.Ordinal));
        var writes = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerWrites>();
        Assert.True(writes.Backlog > 0);
        await stack.StartLedgerAsync();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued recording");
    }

    /// <summary>
    /// Opens 0.2 ETHUSDT and closes it, then (<paramref name="restart"/>) restarts Execution, so what it kept in memory
    /// of the close is gone: the close's request (to retry it) and its answer.
    /// </summary>
    private static async Task<(ClosePositionRequest Close, ClosePositionResponse Answer)> OpenAndCloseAsync(ExecutionStack stack, bool restart = false)
    {
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT", Reason = "test" };
        var answer = await stack.Execution.ClosePositionAsync(close);
        if (restart)
        {
            await stack.StopExecutionAsync();
            await stack.StartExecutionAsync();
        }

        return (close, answer);
    }

    /// <summary>
    /// Closes ETHUSDT with <paramref name="heldPath"/> held for 3 s after the fill, kills Execution while it waits (a crash
    /// after the venue acted) and starts it again: the close's request, to retry it. The Ledger goes first, so nothing
    /// after the fill reaches it: a stop in this process lets the close finish, with its write queued and lost at
    /// shutdown, as a crash would lose it.
    /// </summary>
    private static async Task<ClosePositionRequest> CloseDyingAfterTheFillAsync(ExecutionStack stack, string heldPath)
    {
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, heldPath, latencyMs: 3_000);
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT", Reason = "test" };
        var inFlight = stack.Execution.ClosePositionAsync(close).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(close.ClientOrderId)).Count > 0, TimeSpan.FromSeconds(20), "the close's fill");
        await stack.StopLedgerAsync();
        await stack.StopExecutionAsync();
        await Record.ExceptionAsync(() => inFlight);
        await stack.StartLedgerAsync();
        await stack.StartExecutionAsync();
        return close;
    }

    /// <summary>
    /// Sends a close of <paramref name="symbol"/> whose two requests on the order path (its look-up of its id, GET, and
    /// its order, POST) are held <paramref name="latencyMs"/> on the way in, and waits until the order has reached the
    /// venue: the close is then in flight, its order not yet executed, for the test to act by hand meanwhile.
    /// </summary>
    private static async Task<Task<ClosePositionResponse>> CloseHeldAtItsOrderAsync(ExecutionStack stack, string symbol, int latencyMs)
    {
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", 2, latencyMs: latencyMs);
        var sent = await stack.Paper.RequestCountAsync("POST /fapi/v1/order");
        var inFlight = stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = symbol, Reason = "test" }).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("POST /fapi/v1/order") > sent, TimeSpan.FromSeconds(10), "the close's order");
        return inFlight;
    }

    /// <summary>ETHUSDT long 1 opened through Execution, then 1 more bought by hand at the venue: the record says 1, the venue 2.</summary>
    private static async Task OpenWithAnAddMadeByHandAsync(ExecutionStack stack)
    {
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1"));
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), Orders.NewId("by-hand"));
    }
}
