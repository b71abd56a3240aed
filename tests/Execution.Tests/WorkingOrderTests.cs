using System.Diagnostics;
using Grpc.Core;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.Venue;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// Market orders the venue is still working on past <see cref="VenueOrders.EndWait"/> (<see cref="WorkingOrders"/> keeps
/// them NEW, nothing filled, in every answer Execution gets while the simulator fills them): a caller's open or close is
/// UNAVAILABLE and its retry resumes it.
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
