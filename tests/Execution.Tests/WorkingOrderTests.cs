using System.Diagnostics;
using Grpc.Core;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.Venue;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// Market orders the venue is still working on past <see cref="VenueOrders.EndWait"/> (<see cref="WorkingOrders"/> keeps
/// them NEW, nothing filled, in every answer Execution gets while the simulator fills them): a caller's open or close is
/// UNAVAILABLE and its retry resumes it; Execution's own close at once is answered as last read, as not filled.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class WorkingOrderTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>No pass of its own between a test's calls: what the Ledger holds is what the calls booked.</summary>
    private static readonly Dictionary<string, string?> NoPeriodicReconciliation = new() { ["Execution:ReconcileInterval"] = "01:00:00" };

    /// <summary>
    /// The open's order is still working after 5 s of reads: UNAVAILABLE, saying to retry with the same id, and nothing
    /// booked (the open does not know what filled; the stop-loss it asked for is not placed yet either). Retried once the
    /// order has ended, the open resumes it: no second order, one position recorded, its stop-loss placed, replayed.
    /// </summary>
    [Fact]
    public async Task OpenPosition_OrderStillWorkingPastTheEndWait_UnavailableNothingBookedAndTheRetryResumesIt()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");
        working.Hold(open.ClientOrderId);

        var waited = Stopwatch.StartNew();
        var failed = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.Equal(
            $"order: the venue is still working BTCUSDT order {open.ClientOrderId} (status New, 0 of 0.01 filled after 5 s); retry with the same client_order_id to resume it",
            failed.Status.Detail);
        AssertReadAgainUntilTheEndWait(waited, working, open.ClientOrderId);
        // Meanwhile the simulator has filled it, and nothing of it is booked.
        Assert.Equal(0.01m, (await stack.Venue().GetPositionsAsync("BTCUSDT")).Single(p => p.PositionAmt != 0m).PositionAmt);
        Assert.Equal(0, await stack.CountAsync("positions"));
        Assert.Equal(0, await stack.CountAsync("trades"));
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));

        working.Release(open.ClientOrderId);
        var resumed = await stack.Execution.OpenPositionAsync(open);

        Assert.True(resumed.Replayed);
        Assert.Equal("0.01", resumed.Quantity);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("positions"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 0.01", resumed.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid", open.ClientOrderId, resumed.PositionId));
        Assert.Equal(95000m, Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT")).TriggerPrice);
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// As above, but the caller never retries: the open asked for a stop-loss, so Execution completes it once its order
    /// has ended (a resume, as the caller's retry would be): the stop-loss placed, the position recorded as the caller's
    /// (its strategy, its stop-loss price), no second order. A retry after that is answered with that result. Before, the
    /// position stood unprotected until a retry, and reconciliation adopted it without a stop-loss.
    /// </summary>
    [Fact]
    public async Task OpenPosition_OrderStillWorkingAndNeverRetried_CompletedInTheBackgroundWithItsStopLoss()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");
        working.Hold(open.ClientOrderId);
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));

        working.Release(open.ClientOrderId);

        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE status = 'open'") == 1, TimeSpan.FromSeconds(60),
            "the open completed without a retry");
        Assert.Equal(95000m, Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT")).TriggerPrice);
        Assert.Equal(1, await stack.CountAsync("positions WHERE quantity = 0.01 AND stop_loss_price = 95000 AND strategy = 'test'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
        var retried = await stack.Execution.OpenPositionAsync(open);
        Assert.True(retried.Replayed);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid", retried.PositionId));
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The caller did not retry the open whose order was working, and the position got a stop-loss since (placed by hand
    /// here; another open of the caller's would place one too): the background completion of the open keeps that
    /// stop-loss (the position is guarded at the price set after the request) instead of cancelling it for the older
    /// request's price, and records the open without a stop-loss price of its own.
    /// </summary>
    [Fact]
    public async Task OpenPosition_CompletedInTheBackgroundAfterAStopLossWasPlaced_KeepsThatStopLoss()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");
        working.Hold(open.ClientOrderId);
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);
        await stack.Venue().PlaceConditionalOrderAsync(
            new Binance.Models.NewConditionalOrder("BTCUSDT", Binance.Models.OrderSide.Sell, Binance.Models.ConditionalOrderType.StopMarket, 96000m), "newer-stop");

        working.Release(open.ClientOrderId);
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE status = 'open'") == 1, TimeSpan.FromSeconds(60),
            "the open completed without a retry");

        var stop = Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
        Assert.Equal((96000m, "newer-stop"), (stop.TriggerPrice, stop.ClientAlgoId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE quantity = 0.01 AND stop_loss_price IS NULL AND strategy = 'test'"));
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
    }

    /// <summary>
    /// An open that failed before its order went out (the venue's account unreadable) is never completed: the background
    /// completion only resumes an order it finds, and places none.
    /// </summary>
    [Fact]
    public async Task OpenPosition_FailedBeforeItsOrderWentOut_NothingPlacedWithoutARetry()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 1_000);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);
        await stack.Paper.ClearFaultsAsync();

        // The completion looks at 1 s, 3 s and 7 s after the failure: past the third look.
        await Task.Delay(TimeSpan.FromSeconds(8));

        Assert.Empty(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.Equal(0, await stack.CountAsync("positions"));
    }

    /// <summary>
    /// As above for a close: UNAVAILABLE after 5 s, the record still open with no close booked and the position's orders
    /// not cancelled (the close is not known to have filled). Retried once the order has ended, the close resumes it: no
    /// second order, the record closed once with the close's trade, replayed.
    /// </summary>
    [Fact]
    public async Task ClosePosition_OrderStillWorkingPastTheEndWait_UnavailableNothingBookedAndTheRetryResumesIt()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", stopLoss: "95000"));
        var close = Orders.Close();
        working.Hold(close.ClientOrderId);
        var cancels = await CancelRequestsAsync(stack);

        var waited = Stopwatch.StartNew();
        var failed = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.ClosePositionAsync(close).ResponseAsync);

        Assert.Equal(
            $"order: the venue is still working BTCUSDT order {close.ClientOrderId} (status New, 0 of 0.01 filled after 5 s); retry with the same client_order_id to resume it",
            failed.Status.Detail);
        AssertReadAgainUntilTheEndWait(waited, working, close.ClientOrderId);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 0.01", opened.PositionId));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", close.ClientOrderId));
        Assert.Equal(cancels, await CancelRequestsAsync(stack));

        working.Release(close.ClientOrderId);
        var closed = await stack.Execution.ClosePositionAsync(close);

        Assert.True(closed.Replayed);
        Assert.Equal((opened.PositionId, "0.01"), (closed.PositionId, closed.Quantity));
        Assert.NotEmpty(closed.RealizedPnl);
        Assert.Single(await stack.Paper.OrdersAsync(close.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("positions"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_reason = 'test close'", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid", close.ClientOrderId, opened.PositionId));
        Assert.All(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The open's stop-loss is refused, and the close at once that follows is still working after 5 s. Execution's own
    /// order, which no retry resumes, is answered as last read: not filled. The open is ABORTED saying the close filled 0
    /// of 0.01 and the position stands without a stop-loss; nothing is booked as a close (the open's record stands), the
    /// symbol's orders are not cancelled, and a critical risk event says the position is unprotected. A retry of the open
    /// gets the same answer and sends nothing. The venue did fill that close (the simulator fills every market order):
    /// once it reads as ended, reconciliation books it, with its fill.
    /// </summary>
    [Fact]
    public async Task OpenPosition_StopLossRefusedAndTheCloseAtOnceStillWorkingPastTheEndWait_AbortedUnprotectedAndNoCloseBooked()
    {
        var working = new WorkingOrders();
        await using var stack = await StartAsync(working);
        await stack.Paper.InjectFaultAsync(FaultKind.Reject, "POST /fapi/v1/algoOrder", 1);
        var open = Orders.Open(quantity: "0.01", stopLoss: "95000");
        var closeId = ExecutionWire.Derived(open.ClientOrderId, "slfail");
        working.Hold(closeId);
        var cancels = await CancelRequestsAsync(stack);

        var waited = Stopwatch.StartNew();
        var failed = await Orders.FailsWith(StatusCode.Aborted, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.StartsWith("stop_loss_price: the stop-loss could not be placed (", failed.Status.Detail, StringComparison.Ordinal);
        Assert.EndsWith("and the close at once filled 0 of 0.01: the position stands at the venue without a stop-loss", failed.Status.Detail, StringComparison.Ordinal);
        AssertReadAgainUntilTheEndWait(waited, working, closeId);
        // Answered as last read: one close sent, nothing booked as a close, nothing cancelled, the position reported unprotected.
        var orders = await stack.Paper.OrdersAsync();
        Assert.Single(orders, o => o.ClientOrderId == open.ClientOrderId);
        Assert.Single(orders, o => o.ClientOrderId == closeId && o.Side == "SELL");
        Assert.Equal(1, await stack.CountAsync("positions"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.01 AND stop_loss_price = 95000"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", closeId));
        Assert.Equal(cancels, await CancelRequestsAsync(stack));
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE event_type = 'unprotected_position' AND severity = 'critical' AND symbol = 'BTCUSDT' AND reason LIKE $1",
            $"BTCUSDT: the stop-loss of {open.ClientOrderId} could not be placed and the close at once filled 0 of 0.01 (New); the position stands without a stop-loss"));

        // ABORTED is the open's final answer: its retry gets it again and sends nothing.
        var requests = await stack.OrderRequestsAsync();
        await Orders.FailsWith(StatusCode.Aborted, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);
        Assert.Equal(requests, await stack.OrderRequestsAsync());

        // The simulator filled that close all along: once it reads as ended, the next pass books the venue's close with its fill.
        working.Release(closeId);
        Assert.All(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND exit_reason LIKE 'venue: closed by its own order%'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND quantity = 0.01 AND side = 'sell'", closeId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    private Task<ExecutionStack> StartAsync(WorkingOrders working) =>
        ExecutionStack.StartAsync(postgres, rabbit, executionSettings: NoPeriodicReconciliation, executionServices: working.Install);

    /// <summary>
    /// The answer came once the order had been read again (with back-off) for <see cref="VenueOrders.EndWait"/>, not at its
    /// first "working": the time is a lower bound only, which a slow machine cannot break.
    /// </summary>
    private static void AssertReadAgainUntilTheEndWait(Stopwatch waited, WorkingOrders working, string clientOrderId)
    {
        Assert.True(waited.Elapsed >= VenueOrders.EndWait, $"answered after {waited.Elapsed}, before {clientOrderId} had been read again for {VenueOrders.EndWait}");
        Assert.True(working.ReadsWhileHeld(clientOrderId) > 1, $"{clientOrderId} was not read again while it was working");
    }

    /// <summary>Cancels the venue has received (of one order, or of a symbol's open orders, plain or conditional).</summary>
    private static async Task<long> CancelRequestsAsync(ExecutionStack stack) =>
        (await stack.Paper.RequestCountsAsync()).Where(r => r.Key.StartsWith("DELETE ", StringComparison.Ordinal)).Sum(r => r.Value);
}
