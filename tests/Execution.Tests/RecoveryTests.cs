using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Testing.Servers;
using Side = TradeEngine.Common.V1.Side;

namespace TradeEngine.Execution.Tests;

/// <summary>Crashes and restarts: the venue and the Ledger end in agreement and nothing is done twice.</summary>
[Collection(StackCollection.Name)]
public sealed class RecoveryTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// Fail closed: until its first reconciliation of the venue and the Ledger succeeds, Execution opens nothing (UNAVAILABLE
    /// naming the rule, no order request at the venue); once the venue answers and a pass succeeds, the same open goes
    /// through. (Every other test waits for the first pass; this rule had no test of its own.)
    /// </summary>
    [Fact]
    public async Task OpenPosition_BeforeTheFirstReconciliationSucceeds_RefusedAndNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.StopExecutionAsync();
        // The venue will not list positions: every reconciliation pass fails.
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 100_000);
        await stack.StartExecutionAsync(waitForReconciliation: false);
        var state = stack.ExecutionHost.Services.GetRequiredService<Reconciliation.ReconciliationState>();
        Assert.False(state.IsReady);
        var orders = await stack.OrderRequestsAsync();
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2);

        var refused = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.StartsWith("reconciliation: the venue and the Ledger have not been reconciled since start", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(orders, await stack.OrderRequestsAsync());
        Assert.Empty(await stack.Paper.OrdersAsync(open.ClientOrderId));

        await stack.Paper.ClearFaultsAsync();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(state.IsReady), TimeSpan.FromSeconds(90), "the first reconciliation to succeed");
        var opened = await stack.Execution.OpenPositionAsync(open);
        Assert.Equal("0.2", opened.Quantity);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
    }

    /// <summary>
    /// Hedge (dual-side) position mode, which nothing here is built for (one position a symbol, orders without a position
    /// side): the account switched to it after Execution's first pass makes the next passes fail without comparing or
    /// repairing (a position closed by hand at the venue stays open in the Ledger through them), with one critical risk
    /// event naming the mode and no listing read; opening is refused (FAILED_PRECONDITION naming it, no order request at
    /// the venue) and readiness says so, until the account is back in one-way mode and a pass succeeds (and repairs).
    /// </summary>
    [Fact]
    public async Task Reconciliation_AccountInHedgeMode_OpeningRefusedWithACriticalEvent_UntilItIsOneWayAgain()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            executionSettings: new Dictionary<string, string?> { ["Execution:ReconcileInterval"] = "00:00:00.500" });
        var state = stack.ExecutionHost.Services.GetRequiredService<Reconciliation.ReconciliationState>();
        Assert.True(state.IsReady);
        Assert.Null(state.Blocked);
        var held = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2));
        // Closed by hand at the venue, a difference the next successful pass repairs, then the account switched to hedge
        // mode (Binance takes it only when flat), under the symbol's lock: a pass that read the mode before the switch
        // reaches the symbol after it, and finds its rows by side.
        using (await stack.ExecutionHost.Services.GetRequiredService<Concurrency.SymbolLocks>().AcquireAsync("BTCUSDT", CancellationToken.None))
        {
            await stack.Venue().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.01m, ReduceOnly: true), "by-hand-close");
            Assert.True((await stack.Venue().ChangePositionModeAsync(PositionMode.Hedge)).Changed);
        }

        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(state.Blocked is not null), TimeSpan.FromSeconds(30), "a pass to find the account in hedge mode");
        var day = DateTime.UtcNow.Date;
        var listings = await stack.Paper.RequestCountAsync("GET /fapi/v1/openAlgoOrders");
        var modeReads = await stack.Paper.RequestCountAsync("GET /fapi/v1/positionSide/dual");
        var orders = await stack.OrderRequestsAsync();
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2);

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.Contains("hedge (dual-side) position mode", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(orders, await stack.OrderRequestsAsync());
        Assert.Empty(await stack.Paper.OrdersAsync(open.ClientOrderId));
        var health = await state.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, health.Status);
        Assert.Contains("hedge", health.Description, StringComparison.Ordinal);
        // Several passes (0.5 s apart): each reads the mode and stops there; nothing repaired, one event a UTC day.
        await TradeEngine.Testing.Poll.UntilAsync(() => stack.Paper.RequestCountAsync("GET /fapi/v1/positionSide/dual"), n => n >= modeReads + 2, TimeSpan.FromSeconds(10));
        Assert.Equal(listings, await stack.Paper.RequestCountAsync("GET /fapi/v1/openAlgoOrders"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND position_id = $1::uuid", held.PositionId));
        // One a UTC day: exactly one, or (only when the test ran across midnight) one for each of the two days. Before, the
        // count was asserted only when the day had not changed.
        Assert.InRange(await stack.CountAsync(
                "risk_events WHERE event_type = 'reconciliation_mismatch' AND severity = 'critical' AND reason LIKE '%hedge (dual-side) position mode%'"),
            1, DateTime.UtcNow.Date == day ? 1 : 2);

        Assert.True((await stack.Venue().ChangePositionModeAsync(PositionMode.OneWay)).Changed);
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(state.Blocked is null), TimeSpan.FromSeconds(30), "a pass to succeed in one-way mode");
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND position_id = $1::uuid", held.PositionId));
        var opened = await stack.Execution.OpenPositionAsync(open);
        Assert.Equal("0.2", opened.Quantity);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
    }

    /// <summary>
    /// The venue closed the recorded position by its stop-loss, and an open on the symbol comes before the next
    /// reconciliation pass (a minute apart): the stale record is closed first (with the venue's close, as a pass would),
    /// and the open is booked as a position of its own. Before, a short was refused by the Ledger after the venue had
    /// filled it (FAILED_PRECONDITION, as if nothing was done, with a short standing at the venue), and a long was
    /// booked as an add to the position the venue had closed.
    /// </summary>
    [Theory]
    [InlineData(Side.Short)]
    [InlineData(Side.Long)]
    public async Task OpenPosition_AfterTheVenueClosedTheRecordedPosition_TheRecordIsClosedFirstAndTheOpenBookedOnItsOwn(Side next)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.SetPriceAsync("ETHUSDT", 3000m);
        var first = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2, stopLoss: "2900"));
        await stack.Paper.SetPriceAsync("ETHUSDT", 2850m);
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Venue().GetPositionsAsync("ETHUSDT")).All(p => p.PositionAmt == 0m),
            TimeSpan.FromSeconds(10), "the stop-loss to close the position at the venue");
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND position_id = $1::uuid", first.PositionId));

        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1", leverage: 2, side: next));

        Assert.Equal("0.1", opened.Quantity);
        Assert.NotEqual(first.PositionId, opened.PositionId);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND position_id = $1::uuid", first.PositionId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.1 AND position_id = $1::uuid", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch' AND reason LIKE '%closed it by its own order%'"));
        Assert.Equal(next == Side.Long ? 0.1m : -0.1m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task OpenPosition_ExecutionKilledAfterTheFillAndRestarted_ReconciledAndRetryPlacesNoSecondOrder()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        // The fill happens; the step after it (the fee look-up) is slow, and Execution dies there: the Ledger goes first,
        // so nothing after the fill reaches it (a stop in this process lets the open finish, with its write queued and
        // lost at shutdown, as a crash would lose it).
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 2_000);
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        var inFlight = stack.Execution.OpenPositionAsync(open).ResponseAsync;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            while ((await stack.Paper.OrdersAsync(open.ClientOrderId)).Count == 0)
            {
                await Task.Delay(20, cts.Token);
            }
        }

        await stack.StopLedgerAsync();
        await stack.StopExecutionAsync();
        await Record.ExceptionAsync(() => inFlight);
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));

        await stack.StartLedgerAsync();
        await stack.StartExecutionAsync();

        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch' AND reason LIKE '%adopted%with its 1 fill(s)%'"));
        // The fill the crash kept from the Ledger is not lost: the adoption recorded the venue's own fills of the order,
        // under its client order id, with their trade ids and fees (the position's fees are theirs).
        var venueFills = await stack.Venue().GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("ETHUSDT"));
        Assert.NotEmpty(venueFills);
        var fees = venueFills.Sum(t => t.Commission);
        Assert.True(fees > 0m);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND fees = $1 AND strategy = 'reconciled-with-fills'", fees));
        foreach (var fill in venueFills)
        {
            Assert.Equal(1, await stack.CountAsync(
                "trades t JOIN positions p ON p.position_id = t.position_id WHERE t.exchange_trade_id = $1 AND t.client_order_id = $2 AND t.fee = $3 AND t.quantity = $4 AND p.symbol = 'ETHUSDT'",
                fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), open.ClientOrderId, fill.Commission, fill.Qty));
        }

        var retried = await stack.Execution.OpenPositionAsync(open);
        Assert.True(retried.Replayed);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal("1", (await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" })).Quantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 1"));
        // The resumed open found its fills already recorded by the adoption and recorded nothing more.
        Assert.Equal(venueFills.Count, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task OpenPosition_LedgerDownAfterTheFill_AnsweredWithAWarningAndTheFillLandsWhenTheLedgerIsBack()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);

        var opened = await OpenWhileTheLedgerGoesDownAsync(stack, open);

        Assert.Empty(opened.Denials);
        Assert.Equal(("1", "3000"), (opened.Quantity, opened.EntryPrice));
        Assert.Contains(opened.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        Assert.True(writes.Backlog > 0);
        Assert.Equal(0, await stack.CountAsync("positions"));
        // While the fill is queued the reconciliation does not compare (it would adopt the position twice).
        await Assert.ThrowsAsync<InvalidOperationException>(stack.ReconcileAsync);

        await stack.StartLedgerAsync();

        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued writes");
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(1, await stack.CountAsync(
            "trades t JOIN positions p ON p.position_id = t.position_id WHERE t.client_order_id = $1 AND p.symbol = 'ETHUSDT'", open.ClientOrderId));
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.NotEmpty((await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" })).PositionId);
    }

    /// <summary>
    /// A queued write that can never succeed (the domain refuses its figures) is dropped with an error logged, and the
    /// writes behind it land. Before, only the venue's refusals were dropped: a DomainException was retried for ever at
    /// the head of the queue, every later write waited behind it, and reconciliation, which waits for an empty queue,
    /// never ran again.
    /// </summary>
    [Fact]
    public async Task LedgerWrites_AQueuedWriteTheDomainRefuses_DroppedAndTheWritesBehindItLand()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        var attempts = 0;
        var behind = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        writes.Defer("a close of nothing", _ =>
        {
            Interlocked.Increment(ref attempts);
            throw new TradeEngine.Domain.DomainException("closedQuantity", "must be greater than 0");
        });
        writes.Defer("the write behind it", _ =>
        {
            behind.TrySetResult();
            return Task.CompletedTask;
        });

        await behind.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(10), "the queue");
        Assert.Equal(1, Volatile.Read(ref attempts));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A queued write whose venue read is refused for a reason of the moment (-1021 after the client's one re-sync,
    /// -1008 the venue overloaded, -2015 the key's permissions) is tried again until it lands, as in an outage; a
    /// refusal of the read itself (-1121, an unknown symbol) drops it, as before. Before, every venue refusal dropped the
    /// write at once, and with it the fill it was recording.
    /// </summary>
    [Theory]
    [InlineData(PaperExchange.Control.FaultKind.Timestamp, 0, true)]
    [InlineData(PaperExchange.Control.FaultKind.Reject, -1008, true)]
    [InlineData(PaperExchange.Control.FaultKind.Reject, -2015, true)]
    [InlineData(PaperExchange.Control.FaultKind.Reject, -1121, false)]
    public async Task LedgerWrites_AQueuedWritesVenueReadRefused_TriedAgainUnlessTheRequestItselfIsRefused(
        PaperExchange.Control.FaultKind fault, int code, bool triedAgain)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        var venue = stack.ExecutionHost.Services.GetRequiredService<TradeEngine.Binance.IBinanceClient>();
        // Two refused attempts: on -1021 the client re-syncs its clock and asks once more, so each attempt meets two.
        var refusals = fault == PaperExchange.Control.FaultKind.Timestamp ? 4 : 2;
        await stack.Paper.InjectFaultAsync(fault, "/fapi/v2/positionRisk", refusals, code: code == 0 ? null : code);
        var attempts = 0;
        var behind = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        writes.Defer("a write that reads the venue's position", async ct =>
        {
            Interlocked.Increment(ref attempts);
            await venue.GetPositionsAsync("ETHUSDT", ct);
        });
        writes.Defer("the write behind it", _ =>
        {
            behind.TrySetResult();
            return Task.CompletedTask;
        });

        await behind.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(10), "the queue");
        Assert.Equal(triedAgain ? 3 : 1, Volatile.Read(ref attempts));
    }

    /// <summary>
    /// An open retried after a crash while Funding is down: its order is at the venue, so it is recorded and its
    /// stop-loss placed, with a warning that it has no funding quote. Before, the retry waited for the quote (informational
    /// once the order is placed) and failed UNAVAILABLE for as long as Funding was down, the position unprotected.
    /// </summary>
    [Fact]
    public async Task OpenPosition_ResumedAfterACrashWhileFundingIsDown_RecordedAndProtectedWithAWarning()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 10_000);
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2, stopLoss: "2500");
        var inFlight = stack.Execution.OpenPositionAsync(open).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(open.ClientOrderId)).Count > 0, TimeSpan.FromSeconds(20), "the fill");
        await stack.StopExecutionAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
        await stack.FundingHost.DisposeAsync();
        await stack.StartExecutionAsync();

        var retried = await stack.Execution.OpenPositionAsync(open);

        Assert.True(retried.Replayed);
        Assert.Equal(("1", string.Empty), (retried.Quantity, retried.FundingRate));
        Assert.Contains(retried.Warnings, w => w.StartsWith("funding: ", StringComparison.Ordinal));
        var stop = Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("ETHUSDT"));
        Assert.Equal(2500m, stop.TriggerPrice);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
    }

    /// <summary>
    /// The first attempt died between its fill and its stop-loss: reconciliation adopted the position with the protective
    /// prices of the orders the venue held, none. The caller's retry places the stop-loss and take-profit it asked for, and
    /// the adopted record now takes their prices (with a PositionAmended event): before, the record kept none, GetPosition
    /// showed no stop-loss, and reconciliation (which restores only what the record holds) did not put the stop back once
    /// it was gone from the venue.
    /// </summary>
    [Fact]
    public async Task OpenPosition_ResumedOnARecordAdoptedBeforeItsStopLoss_RecordTakesTheProtectivePricesAndReconciliationRestoresThem()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var venue = stack.Venue();
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2, stopLoss: "2500", takeProfit: "3500");
        // What the first attempt left: its settings and its filled market order at the venue, under its client order id,
        // and nothing after (no protective order, no Ledger write).
        await venue.ChangeLeverageAsync("ETHUSDT", 2);
        await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), open.ClientOrderId);
        Assert.Equal(1, await stack.ReconcileAsync());
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND stop_loss_price IS NULL AND take_profit_price IS NULL"));

        var retried = await stack.Execution.OpenPositionAsync(open);

        Assert.True(retried.Replayed);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(2, (await venue.GetOpenConditionalOrdersAsync("ETHUSDT")).Count);
        var position = await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" });
        Assert.Equal(("2500", "3500"), (position.StopLossPrice, position.TakeProfitPrice));
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1 AND stop_loss_price = 2500 AND take_profit_price = 3500 AND quantity = 1", Guid.Parse(retried.PositionId)));
        Assert.Equal(1, await stack.CountAsync(
            "outbox WHERE message_type = 'PositionAmended' AND aggregate_id = $1 AND (payload->>'StopLossPrice')::numeric = 2500 " +
            "AND (payload->>'TakeProfitPrice')::numeric = 3500 AND (payload->>'Leverage')::int = 2", retried.PositionId));
        // The retry again changes nothing more.
        Assert.True((await stack.Execution.OpenPositionAsync(open)).Replayed);
        Assert.Equal(1, await stack.CountAsync("outbox WHERE message_type = 'PositionAmended' AND aggregate_id = $1", retried.PositionId));

        // The stop-loss cancelled by hand: reconciliation puts it back at the record's price.
        var stop = Assert.Single(await venue.GetOpenConditionalOrdersAsync("ETHUSDT"), o => o.Type == ConditionalOrderType.StopMarket);
        Assert.True(await venue.CancelConditionalOrderAsync(stop.ClientAlgoId));
        Assert.True(await stack.ReconcileAsync() >= 1);
        var restored = Assert.Single(await venue.GetOpenConditionalOrdersAsync("ETHUSDT"), o => o.Type == ConditionalOrderType.StopMarket);
        Assert.Equal(2500m, restored.TriggerPrice);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT'"));
    }

    [Fact]
    public async Task OpenPosition_SameClientOrderIdAfterTheFirstOrderFilledAndExecutionRestarted_NeverPlacesASecondOrder()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(quantity: "0.01");
        var first = await stack.Execution.OpenPositionAsync(open);
        await stack.Execution.ClosePositionAsync(Orders.Close());
        // The venue accepts a filled order's client id again (ids are unique only among open orders), and a restart
        // empties Execution's memory of answers: only the look-up at the venue stands between a retry and a second order.
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();

        var retried = await stack.Execution.OpenPositionAsync(open);

        Assert.True(retried.Replayed);
        Assert.Equal((first.PositionId, first.EntryPrice, first.Quantity), (retried.PositionId, retried.EntryPrice, retried.Quantity));
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.All(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(1, await stack.CountAsync("positions"));
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
    }

    /// <summary>
    /// The first attempt could not read its order's fills (the open is booked with one trade for the order and no fee);
    /// after a restart the same open again, with the fills readable now, is answered with that record. Before, it wrote
    /// the open again under its key with the fills' fee, the Ledger refused the different payload, and the caller got
    /// ALREADY_EXISTS for its own retry.
    /// </summary>
    [Fact]
    public async Task OpenPosition_SameOpenAfterARestartWhoseFirstAttemptCouldNotReadItsFills_AnsweredWithItsRecord()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v1/userTrades", 2); // the read and its one retry
        var open = Orders.Open(quantity: "0.01");
        var first = await stack.Execution.OpenPositionAsync(open);
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();

        var retried = await stack.Execution.OpenPositionAsync(open);

        Assert.True(retried.Replayed);
        Assert.Equal((first.PositionId, first.Quantity), (retried.PositionId, retried.Quantity));
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.01"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
    }

    /// <summary>
    /// An open's client order id given again after a restart for another symbol: refused before anything is sent (the
    /// venue keeps ids per symbol, so its look-up on the new symbol finds nothing; the Ledger holds the first order's
    /// trades). Before, the order was placed and filled, and the Ledger then refused its write under the spent key: a
    /// position nobody had recorded.
    /// </summary>
    [Fact]
    public async Task OpenPosition_ClientOrderIdSpentOnAnotherSymbolBeforeARestart_AlreadyExistsAndNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var first = Orders.Open(symbol: "BTCUSDT", quantity: "0.01");
        await stack.Execution.OpenPositionAsync(first);
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();

        var ex = await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.OpenPositionAsync(
            Orders.Open(symbol: "ETHUSDT", quantity: "0.2", clientOrderId: first.ClientOrderId)).ResponseAsync);

        Assert.StartsWith("client_order_id: ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("BTCUSDT", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Single(await stack.Paper.OrdersAsync(first.ClientOrderId));
        Assert.All(await stack.Venue().GetPositionsAsync("ETHUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(0, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(0, await stack.ReconcileAsync());

        // A close and a reduce under that id on a symbol that has a position: refused as well, nothing sent.
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        requests = await stack.OrderRequestsAsync();
        await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = first.ClientOrderId, Symbol = "ETHUSDT", Fraction = "0.5" }).ResponseAsync);
        await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.ClosePositionAsync(
            new ClosePositionRequest { ClientOrderId = first.ClientOrderId, Symbol = "ETHUSDT" }).ResponseAsync);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(0.2m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
    }

    /// <summary>
    /// A reduce's client order id given again after a restart, with another fraction: refused, and nothing placed.
    /// Before, a restart left only the venue's order to judge by, whose quantity a fraction was never compared with,
    /// and the call answered the first reduce as if it were this one.
    /// </summary>
    [Fact]
    public async Task ReducePosition_SameIdOtherFractionAfterARestart_AlreadyExistsAndTheSameFractionReplays()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.5", Reason = "test" };
        var first = await stack.Execution.ReducePositionAsync(reduce);
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();

        var other = reduce.Clone();
        other.Fraction = "0.25";
        var ex = await Assert.ThrowsAsync<RpcException>(() => stack.Execution.ReducePositionAsync(other).ResponseAsync);
        var retried = await stack.Execution.ReducePositionAsync(reduce);

        Assert.Equal(StatusCode.AlreadyExists, ex.StatusCode);
        Assert.Contains("client_order_id", ex.Status.Detail, StringComparison.Ordinal);
        Assert.True(retried.Replayed);
        Assert.Equal((first.ReducedQuantity, first.RemainingQuantity), (retried.ReducedQuantity, retried.RemainingQuantity));
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Single(await stack.Paper.OrdersAsync(reduce.ClientOrderId));
        Assert.Equal(0.5m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.5"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// An open's client order id given again after a restart with other settings (leverage, margin type, stop-loss,
    /// take-profit): refused ALREADY_EXISTS naming what differs, and nothing sent or changed. Before, a restart left only
    /// the venue's order to judge by (side, type, quantity), so the retry resumed the first open as its own: its answer
    /// and the Ledger's record carried this request's leverage and protective prices while the venue held the first
    /// request's. The same request again still resumes (replayed, one order).
    /// </summary>
    [Theory]
    [InlineData("leverage")]
    [InlineData("margin_type")]
    [InlineData("stop_loss_price")]
    [InlineData("no stop_loss_price")]
    [InlineData("take_profit_price")]
    [InlineData("no take_profit_price")]
    public async Task OpenPosition_SameIdOtherSettingsAfterARestart_AlreadyExistsNothingChangedAndTheSameRequestReplays(string changed)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 3, stopLoss: "95000", takeProfit: "110000");
        var first = await stack.Execution.OpenPositionAsync(open);
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();
        var leverageChanges = await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage");
        var marginChanges = await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType");

        var other = open.Clone();
        switch (changed)
        {
            case "leverage": other.Leverage = 5; break;
            case "margin_type": other.MarginType = Common.V1.MarginType.Isolated; break;
            case "stop_loss_price": other.StopLossPrice = "94000"; break;
            case "no stop_loss_price": other.StopLossPrice = string.Empty; break;
            case "take_profit_price": other.TakeProfitPrice = "111000"; break;
            case "no take_profit_price": other.TakeProfitPrice = string.Empty; break;
        }

        var ex = await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.OpenPositionAsync(other).ResponseAsync);

        Assert.StartsWith("client_order_id: ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(changed.Replace("no ", string.Empty, StringComparison.Ordinal), ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(leverageChanges, await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"));
        Assert.Equal(marginChanges, await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));
        var venue = stack.Venue();
        var position = Assert.Single(await venue.GetPositionsAsync("BTCUSDT"), p => p.PositionAmt != 0m);
        Assert.Equal((0.01m, 3, TradeEngine.Domain.MarginType.Cross), (position.PositionAmt, position.Leverage, position.MarginType));
        var guarding = await venue.GetOpenConditionalOrdersAsync("BTCUSDT");
        Assert.Equal(95000m, Assert.Single(guarding, o => o.Type == ConditionalOrderType.StopMarket).TriggerPrice);
        Assert.Equal(110000m, Assert.Single(guarding, o => o.Type == ConditionalOrderType.TakeProfitMarket).TriggerPrice);
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE symbol = 'BTCUSDT' AND status = 'open' AND leverage = 3 AND margin_type = 'cross' AND stop_loss_price = 95000 AND take_profit_price = 110000"));

        var retried = await stack.Execution.OpenPositionAsync(open);
        Assert.True(retried.Replayed);
        Assert.Equal((first.PositionId, first.EntryPrice, first.LiquidationPrice), (retried.PositionId, retried.EntryPrice, retried.LiquidationPrice));
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_LedgerRecordWithoutVenuePosition_ClosesTheRecordAndLogsARiskEvent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Ledger.OpenPositionAsync(new TradeEngine.Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "ghost", Venue = "binance", Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "2",
            EntryPrice = "3000", Leverage = 2, MarginType = Common.V1.MarginType.Cross, Fee = "0",
        });

        var repaired = await stack.ReconcileAsync();

        Assert.Equal(1, repaired);
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch' AND symbol = 'ETHUSDT'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_LedgerRecordWithoutVenuePosition_VenueClockAheadOfThisHost_ClosedAtTheVenuesTime()
    {
        // The venue's clock runs an hour ahead of this host's: the record was opened (on the venue's clock, as every
        // fill is dated) after this host's "now". A close dated by this host would come before the opening, which the
        // Ledger refuses, and the record would stay open pass after pass.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.AdvanceAsync(TimeSpan.FromHours(1));
        var venueNow = await stack.Venue().GetServerTimeAsync();
        var openedAt = venueNow.AddSeconds(-1);
        Assert.True(openedAt > DateTimeOffset.UtcNow.AddMinutes(30));
        var ghost = await stack.Ledger.OpenPositionAsync(new TradeEngine.Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "ghost-ahead", Venue = "binance", Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "2",
            EntryPrice = "3000", Leverage = 2, MarginType = Common.V1.MarginType.Cross, Fee = "0",
            OpenedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(openedAt),
        });

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'closed' AND closed_at >= $2 AND closed_at < $3",
            ghost.PositionId, venueNow.UtcDateTime, venueNow.AddMinutes(5).UtcDateTime));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_VenuePositionBuiltThenPartlyReduced_AdoptedAtTheVenuesEntryWithoutFills()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var venue = stack.Venue();
        // Bought 2 and sold 1 by hand: the latest fills (the sell) do not build the 1 held, so none is recorded.
        await venue.PlaceOrderAsync(new TradeEngine.Binance.Models.NewOrder("ETHUSDT", TradeEngine.Binance.Models.OrderSide.Buy, TradeEngine.Binance.Models.OrderType.Market, 2m), "by-hand-buy");
        await venue.PlaceOrderAsync(new TradeEngine.Binance.Models.NewOrder("ETHUSDT", TradeEngine.Binance.Models.OrderSide.Sell, TradeEngine.Binance.Models.OrderType.Market, 1m, ReduceOnly: true), "by-hand-sell");

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 1 AND fees = 0 AND strategy = 'reconciled'"));
        Assert.Equal(0, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE '%adopted%without fills%'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_VenuePositionWhoseFillTheLedgerAlreadyHolds_AdoptedWithoutFillsNotRefusedEveryPass()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var venue = stack.Venue();
        await venue.PlaceOrderAsync(new TradeEngine.Binance.Models.NewOrder("ETHUSDT", TradeEngine.Binance.Models.OrderSide.Buy, TradeEngine.Binance.Models.OrderType.Market, 1m), "by-hand-held");
        var fill = (await venue.GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("ETHUSDT"))).Single();
        // The Ledger already holds that fill (as a trade of no position): recording it again would be refused.
        await stack.Ledger.RecordTradeAsync(new TradeEngine.Ledger.V1.RecordTradeRequest
        {
            ClientOrderId = "elsewhere", Venue = "binance", ExchangeTradeId = fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Symbol = "ETHUSDT", Side = TradeEngine.Ledger.V1.TradeSide.Buy, Price = "3000", Quantity = "1", Fee = "0",
            ExecutedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(fill.Time),
        });

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 1 AND strategy = 'reconciled'"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE '%adopted%without fills%'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_ReduceWhoseLedgerWriteWasLost_BookedWithTheVenuesFills_AndItsRetryBooksNothingMore()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        // A reduce the venue filled and whose Ledger write died with Execution (the write queue is in memory).
        var (opened, reduceId, _) = await OpenWithALostReduceAsync(stack);
        var venue = stack.Venue();
        var venueFills = await venue.GetUserTradesAsync(new UserTradesQuery("ETHUSDT", Limit: 1000));
        var reduceFills = venueFills.Where(t => t.Side == OrderSide.Sell).ToList();
        Assert.NotEmpty(reduceFills);

        Assert.Equal(1, await stack.ReconcileAsync());

        // Booked as the venue did it: its fills (trade ids, client id, fees) and its price, not the mark.
        var exit = Math.Round(reduceFills.Sum(t => t.Price * t.Qty) / 0.5m, 8, MidpointRounding.AwayFromZero);
        var entry = decimal.Parse(opened.EntryPrice, CultureInfo.InvariantCulture);
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 1.5 AND fees = $2 AND realized_pnl = $3",
            opened.PositionId, venueFills.Sum(t => t.Commission), Math.Round((exit - entry) * 0.5m, 8, MidpointRounding.AwayFromZero)));
        foreach (var fill in reduceFills)
        {
            Assert.Equal(1, await stack.CountAsync(
                "trades WHERE exchange_trade_id = $1 AND position_id = $2::uuid AND client_order_id = $3 AND fee = $4 AND quantity = $5 AND side = 'sell'",
                fill.Id.ToString(CultureInfo.InvariantCulture), opened.PositionId, reduceId, fill.Commission, fill.Qty));
        }

        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE $1", $"%booked the difference at%with its {reduceFills.Count} fill(s)%"));
        Assert.Equal(0, await stack.ReconcileAsync());

        // The caller retries the reduce (its answer was lost with the crash) while the Ledger is briefly away: the
        // venue's order is found, its recording waits in the queue, and once the Ledger is back it finds the reduce
        // already booked and books nothing more.
        var changes = await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId);
        var trades = await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'");
        await stack.StopLedgerAsync();
        var retried = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" });
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        Assert.True(writes.Backlog > 0);
        await stack.StartLedgerAsync();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued reduce");

        Assert.True(retried.Replayed);
        Assert.Equal("1.5", retried.RemainingQuantity);
        Assert.Single(await stack.Paper.OrdersAsync(reduceId));
        Assert.Equal(changes, await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId));
        Assert.Equal(trades, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 1.5", opened.PositionId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_LatestFillsAreOfAnOrderTheLedgerBookedAsOneTrade_BookedAtTheMarkNotWithThoseFills()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "2", leverage: 2));
        var venue = stack.Venue();
        // Reduce R's Ledger write was lost; reduce S came after it and was booked as one trade for the order (its fills
        // could not be listed then), so the venue's latest 0.1 of sells (S's) is already in the books under another id.
        await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 0.1m, ReduceOnly: true), Orders.NewId("lost"));
        var s = (await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 0.1m, ReduceOnly: true), Orders.NewId("booked"))).Order;
        var reducedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(s.UpdateTime);
        await stack.Ledger.ReducePositionAsync(new TradeEngine.Ledger.V1.ReducePositionRequest
        {
            IdempotencyKey = "reduce:" + s.ClientOrderId, PositionId = opened.PositionId, Quantity = "0.1",
            ExitPrice = Wire.Format(s.AvgPrice), Fee = "0", ReducedAt = reducedAt,
        });
        await stack.Ledger.RecordTradeAsync(new TradeEngine.Ledger.V1.RecordTradeRequest
        {
            ClientOrderId = s.ClientOrderId, Venue = "binance", ExchangeTradeId = "order-" + s.OrderId.ToString(CultureInfo.InvariantCulture),
            Symbol = "ETHUSDT", Side = TradeEngine.Ledger.V1.TradeSide.Sell, Price = Wire.Format(s.AvgPrice), Quantity = "0.1", Fee = "0",
            ExecutedAt = reducedAt, PositionId = opened.PositionId,
        });

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 1.8", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", s.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE '%booked the difference at mark%without fills%'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task ReducePosition_ResumedAfterItsChangeWasBookedWithoutItsTrade_RecordsTheTradeOnly()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, reduce) = await OpenWithALostReduceAsync(stack);
        var venue = stack.Venue();
        await BookWithoutItsTradeAsync(stack, opened, reduce);
        var changes = await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId);

        var retried = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" });

        Assert.True(retried.Replayed);
        Assert.Equal(changes, await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 1.5", opened.PositionId));
        var fee = (await venue.GetUserTradesAsync(new UserTradesQuery("ETHUSDT", Limit: 1000))).Where(t => t.OrderId == reduce.OrderId).Sum(t => t.Commission);
        Assert.Equal(1, await stack.CountAsync(
            "trades WHERE client_order_id = $1 AND exchange_trade_id = $2 AND position_id = $3::uuid AND quantity = 0.5 AND side = 'sell' AND fee = $4",
            reduceId, "order-" + reduce.OrderId.ToString(CultureInfo.InvariantCulture), opened.PositionId, fee));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task ReducePosition_ResumedAfterItsPositionWasClosedAndAnotherOpened_NotBookedAgainstTheNewOne()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, _) = await OpenWithALostReduceAsync(stack);
        // The rest of that position is closed and a new one of the same size opened, all before the caller retries the
        // reduce whose answer it lost: the open record now is the new position, which the reduce never touched.
        await stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT" });
        var reopened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "2", leverage: 2));
        Assert.NotEqual(opened.PositionId, reopened.PositionId);

        var retried = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" });

        // The close found the record (2) larger than the venue's position (1.5) and reconciled first, which booked the
        // lost reduce with its fill against the position it reduced; the retry answers that booking. The new position is
        // untouched.
        Assert.True(retried.Replayed);
        Assert.Equal(opened.PositionId, retried.PositionId);
        Assert.Equal("2", retried.RemainingQuantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 2", reopened.PositionId));
        Assert.Equal(0, await stack.CountAsync("position_changes WHERE position_id = $1::uuid AND kind <> 'open'", reopened.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid AND quantity = 0.5", reduceId, opened.PositionId));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid", reduceId, reopened.PositionId));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE '%the venue holds 1.5, the Ledger 2; booked the difference%'"));
        Assert.Single(await stack.Paper.OrdersAsync(reduceId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task ReducePosition_ResumedWhileAWriteGetsQueuedAfterItsRead_DecidedOnWhatItRead_NotBookedTwice()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, reduce) = await OpenWithALostReduceAsync(stack);
        await BookWithoutItsTradeAsync(stack, opened, reduce);
        var changes = await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId);

        // The retry reads the symbol with nothing queued (it looks the order up at the venue only after that check);
        // while the venue is slow to show it the position, another write is queued (another symbol's, say). What the
        // retry read still holds every write made before it, so it decides on that, at once.
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v2/positionRisk", count: 2, latencyMs: 2000);
        var lookups = await stack.Paper.RequestCountAsync("GET /fapi/v1/order");
        var retry = stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" }).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("GET /fapi/v1/order") > lookups, TimeSpan.FromSeconds(10), "the retry's order lookup");
        Assert.False(retry.IsCompleted);
        var earlier = new TaskCompletionSource();
        writes.Defer("an earlier write", ct => earlier.Task.WaitAsync(ct));
        var retried = await retry;

        Assert.True(retried.Replayed);
        Assert.Empty(retried.Warnings);
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", reduceId));
        earlier.SetResult();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued decision");

        Assert.Equal(changes, await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 1.5", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "trades WHERE client_order_id = $1 AND exchange_trade_id = $2 AND position_id = $3::uuid AND quantity = 0.5 AND side = 'sell'",
            reduceId, "order-" + reduce.OrderId.ToString(CultureInfo.InvariantCulture), opened.PositionId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task ReducePosition_ResumedAgainstALedgerOlderThanGetOrderTrades_RefusedNamingTheCauseChangingNothing_BookedOnceUpgraded()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, _) = await OpenWithALostReduceAsync(stack);
        // The Ledger is then an older release.
        var older = new OlderLedger("GetOrderTrades");
        await stack.StopLedgerAsync();
        await stack.StartLedgerAsync(older.Configure);
        await stack.WaitUntilExecutionReachesTheLedgerAsync();
        var reduce = new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" };

        // Whether the retry is booked already cannot be told without the order's trades: refused, nothing decided and
        // nothing written (not UNIMPLEMENTED, which would name a method the caller never called).
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await stack.Execution.ReducePositionAsync(reduce));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("GetOrderTrades", refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(older.Refusals > 0);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 2", opened.PositionId));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", reduceId));

        // Once the Ledger is upgraded the retry is booked, once.
        await stack.StopLedgerAsync();
        await stack.StartLedgerAsync();
        await stack.WaitUntilExecutionReachesTheLedgerAsync();
        var retried = await stack.Execution.ReducePositionAsync(reduce);

        Assert.True(retried.Replayed);
        Assert.Empty(retried.Warnings);
        await AssertTheLostReduceBookedAsync(stack, opened, reduceId);
    }

    [Fact]
    public async Task ReducePosition_QueuedRetryMeetsALedgerOlderThanGetOrderTrades_DroppedNotGuessed_ReconciliationBooksItAfterTheUpgrade()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, _) = await OpenWithALostReduceAsync(stack);
        // The retry comes while the Ledger is away: its recording waits in the queue. The Ledger comes back older.
        await stack.StopLedgerAsync();
        var retried = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" });
        Assert.NotEmpty(retried.Warnings);
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        var older = new OlderLedger("GetOrderTrades");
        await stack.StartLedgerAsync(older.Configure);

        // The queued recording cannot be decided: it is dropped (with an error), not guessed, and holds up nothing.
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queue to give the reduce up");
        Assert.True(older.Refusals > 0);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 2", opened.PositionId));

        // After the upgrade, reconciliation books the difference with the venue's fills of the reduce.
        await stack.StopLedgerAsync();
        await stack.StartLedgerAsync();
        await stack.WaitUntilExecutionReachesTheLedgerAsync();
        Assert.Equal(1, await stack.ReconcileAsync());
        await AssertTheLostReduceBookedAsync(stack, opened, reduceId);
    }

    [Fact]
    public async Task Reconcile_AddWhoseLedgerWriteWasLost_BookedWithTheVenuesFills_AndTheResumedOpenBooksNothingMore()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        var venue = stack.Venue();
        // An add the venue filled and whose Ledger write died with Execution.
        var add = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        var placed = await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), add.ClientOrderId);
        var addFills = (await venue.GetUserTradesAsync(new UserTradesQuery("ETHUSDT", Limit: 1000))).Where(t => t.OrderId == placed.Order.OrderId).ToList();
        Assert.NotEmpty(addFills);

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 2 AND position_id = $1::uuid", opened.PositionId));
        foreach (var fill in addFills)
        {
            Assert.Equal(1, await stack.CountAsync(
                "trades WHERE exchange_trade_id = $1 AND position_id = $2::uuid AND client_order_id = $3 AND fee = $4 AND side = 'buy'",
                fill.Id.ToString(CultureInfo.InvariantCulture), opened.PositionId, add.ClientOrderId, fill.Commission));
        }

        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE $1", $"%booked the difference at%with its {addFills.Count} fill(s)%"));

        // The caller retries the open (opening waited for that reconciliation): the venue's order is found, and the add
        // the reconciliation booked is not booked again.
        var trades = await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'");
        var retried = await stack.Execution.OpenPositionAsync(add);

        Assert.True(retried.Replayed);
        Assert.Equal(opened.PositionId, retried.PositionId);
        Assert.Single(await stack.Paper.OrdersAsync(add.ClientOrderId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 2"));
        Assert.Equal(trades, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task OpenPosition_ResumedAddBookedWithoutItsTradeWhileEarlierWritesWait_DecidedWhenTheyLandOnTheVenueAsItWas_NotBookedTwice()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        // An add the venue filled, whose Ledger write died with Execution, and whose change a reconciliation then booked
        // at the mark without its trade (the venue's fills did not explain it).
        var add = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        var placed = await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), add.ClientOrderId);
        await stack.Ledger.OpenPositionAsync(new TradeEngine.Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "booked-at-mark", Account = "default", Venue = "binance", Symbol = "ETHUSDT", Side = Common.V1.Side.Long,
            Quantity = "1", EntryPrice = "3000", Leverage = 2, MarginType = Common.V1.MarginType.Cross, Fee = "0",
            OpenedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(placed.Order.UpdateTime),
        });
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 2", opened.PositionId));
        var changes = await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId);

        // The caller retries the open while a Ledger write made before it still waits in the queue.
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        var earlier = new TaskCompletionSource();
        writes.Defer("an earlier write", ct => earlier.Task.WaitAsync(ct));
        var retried = await stack.Execution.OpenPositionAsync(add);

        // Nothing is decided, so nothing is booked, until the earlier write has landed.
        Assert.True(retried.Replayed);
        Assert.Contains(retried.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        Assert.Equal(0, await stack.CountAsync("trades WHERE client_order_id = $1", add.ClientOrderId));
        // Meanwhile the venue moves on: a reduce, whose own write waits behind the decision.
        var reduce = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = Orders.NewId("reduce"), Symbol = "ETHUSDT", Quantity = "0.5" });
        Assert.NotEmpty(reduce.Warnings);
        earlier.SetResult();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued decision");

        // The decision compared the record with the venue as the retry saw it (2, as booked), not as it is now (1.5): the
        // add stands as booked, its order is recorded as one trade, and then the reduce lands.
        Assert.Single(await stack.Paper.OrdersAsync(add.ClientOrderId));
        Assert.Equal(changes + 1, await stack.CountAsync("position_changes WHERE position_id = $1::uuid", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 1.5"));
        Assert.Equal(1, await stack.CountAsync(
            "trades WHERE client_order_id = $1 AND exchange_trade_id = $2 AND position_id = $3::uuid AND quantity = 1 AND side = 'buy'",
            add.ClientOrderId, "order-" + placed.Order.OrderId.ToString(CultureInfo.InvariantCulture), opened.PositionId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The venue closed the recorded long by its stop-loss, and a short was opened since (by hand here; an open whose
    /// record the Ledger refused leaves the same): the pass finds the venue on the record's other side. Before, the long
    /// was closed at the short's mark without fees; now it is closed with the stop's own fills (their price and fees),
    /// the short's newer fills stepped over, and the short adopted with its own.
    /// </summary>
    [Fact]
    public async Task Reconcile_RecordClosedByItsStopAndTheOtherSideOpenedSince_ClosedWithTheStopsFillsAndTheOtherSideAdopted()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.SetPriceAsync("ETHUSDT", 3000m);
        var first = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2, stopLoss: "2900"));
        var venue = stack.Venue();
        var buys = (await venue.GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("ETHUSDT"))).Count;
        await stack.Paper.SetPriceAsync("ETHUSDT", 2850m);
        await ExecutionStack.WaitUntilAsync(async () => (await venue.GetPositionsAsync("ETHUSDT")).All(p => p.PositionAmt == 0m),
            TimeSpan.FromSeconds(10), "the stop-loss to close the position at the venue");
        var stopFills = (await venue.GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("ETHUSDT"))).Skip(buys).ToList();
        Assert.NotEmpty(stopFills);
        Assert.All(stopFills, f => Assert.Equal(OrderSide.Sell, f.Side));
        Assert.Equal(0.2m, stopFills.Sum(f => f.Qty));
        await stack.Paper.SetPriceAsync("ETHUSDT", 2700m);
        await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 0.3m), "by-hand-short");

        Assert.True(await stack.ReconcileAsync() >= 2);

        var exit = Math.Round(stopFills.Sum(f => f.Price * f.Qty) / 0.2m, 8, MidpointRounding.AwayFromZero);
        var fees = stopFills.Sum(f => f.Commission);
        Assert.True(fees > 0m);
        // Its fees: the open's and the stop's fills', exactly.
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_price = $2 AND fees = $3 AND exit_reason LIKE 'venue:%'",
            first.PositionId, exit, decimal.Parse(first.Fee, CultureInfo.InvariantCulture) + fees));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND realized_pnl = $2", first.PositionId, (exit - 3000m) * 0.2m));
        foreach (var fill in stopFills)
        {
            Assert.Equal(1, await stack.CountAsync("trades WHERE exchange_trade_id = $1 AND symbol = 'ETHUSDT' AND position_id = $2::uuid AND fee = $3",
                fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), first.PositionId, fill.Commission));
        }

        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND side = 'short' AND quantity = 0.3"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The Ledger refuses an open's record after the venue has filled its order (here: its key already holds another
    /// record). Before, the refusal was the open's answer (ALREADY_EXISTS, as if nothing was done, the client order id
    /// freed) while the position stood at the venue: a caller would open again under another id and double it. Now the
    /// answer is the fill with a warning, a critical risk event says the Ledger lacks it, a retry is the same answer (no
    /// second order), and the next reconciliation pass adopts the position with the order's fills.
    /// </summary>
    [Fact]
    public async Task OpenPosition_LedgerRefusesTheFillsRecord_AnsweredAsFilledWithACriticalEvent_AndReconciliationAdoptsIt()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(quantity: "0.01", leverage: 3);
        await stack.Ledger.OpenPositionAsync(new TradeEngine.Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "open:" + open.ClientOrderId, Account = "default", Venue = "binance", Symbol = "ETHUSDT", Side = Common.V1.Side.Long,
            Quantity = "1", EntryPrice = "3000", Leverage = 2, MarginType = Common.V1.MarginType.Cross, Fee = "0",
        });

        var opened = await stack.Execution.OpenPositionAsync(open);

        Assert.Equal("0.01", opened.Quantity);
        Assert.Equal(string.Empty, opened.PositionId);
        Assert.False(string.IsNullOrEmpty(opened.VenueOrderId));
        var warning = Assert.Single(opened.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        Assert.Contains("the Ledger refused its record (AlreadyExists", warning, StringComparison.Ordinal);
        Assert.Equal(0.01m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Equal(0, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT'"));
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE event_type = 'reconciliation_mismatch' AND severity = 'critical' AND symbol = 'BTCUSDT' AND reason LIKE '%the Ledger refused its record%'"));

        var retried = await stack.Execution.OpenPositionAsync(open);
        Assert.True(retried.Replayed);
        Assert.Equal(opened.VenueOrderId, retried.VenueOrderId);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));

        Assert.True(await stack.ReconcileAsync() >= 1);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'open' AND quantity = 0.01 AND side = 'long'"));
        var venueFills = await stack.Venue().GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("BTCUSDT"));
        Assert.NotEmpty(venueFills);
        Assert.Equal(venueFills.Count, await stack.CountAsync("trades WHERE symbol = 'BTCUSDT' AND client_order_id = $1", open.ClientOrderId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_VenueHoldsLessAndNoFillsExplainIt_BookedAtTheMarkWithoutFills()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        // The Ledger's record says 2; the venue holds 1, bought by hand, and no sell at the venue explains the difference.
        await stack.Ledger.OpenPositionAsync(new TradeEngine.Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "two", Venue = "binance", Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "2",
            EntryPrice = "3000", Leverage = 2, MarginType = Common.V1.MarginType.Cross, Fee = "0",
        });
        // At the record's leverage: this test is about the size (a leverage difference is a repair of its own).
        var venue = stack.Venue();
        await venue.ChangeLeverageAsync("ETHUSDT", 2);
        await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1m), "by-hand-one");

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT' AND status = 'open' AND quantity = 1"));
        Assert.Equal(0, await stack.CountAsync("trades WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE symbol = 'ETHUSDT' AND reason LIKE '%booked the difference at mark%without fills%'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Reconcile_StopLossTriggeredAtTheVenue_RecordClosedWithTheVenuesFillsFeesAndPnl()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 3, stopLoss: "95000"));
        var venue = stack.Venue();

        // The market falls through the stop: the venue closes the position by itself.
        await stack.Paper.SetPriceAsync("BTCUSDT", 94000m);
        await ExecutionStack.WaitUntilAsync(async () => (await venue.GetPositionsAsync("BTCUSDT")).All(p => p.PositionAmt == 0m), TimeSpan.FromSeconds(10));
        var exitFills = (await venue.GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("BTCUSDT", Limit: 1000)))
            .Where(t => t.Side == TradeEngine.Binance.Models.OrderSide.Sell).ToList();
        Assert.NotEmpty(exitFills);

        Assert.True(await stack.ReconcileAsync() >= 1);

        var exit = Math.Round(exitFills.Sum(t => t.Price * t.Qty) / exitFills.Sum(t => t.Qty), 8, MidpointRounding.AwayFromZero);
        var fees = exitFills.Sum(t => t.Commission);
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_price = $2 AND exit_reason LIKE 'venue:%'", opened.PositionId, exit));
        // The realized PnL is the fall from the entry to the stop's fills, not to a later mark: (exit - 100,000) x 0.01.
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND realized_pnl = $2", opened.PositionId, (exit - 100000m) * 0.01m));
        foreach (var fill in exitFills)
        {
            Assert.Equal(1, await stack.CountAsync("trades WHERE exchange_trade_id = $1 AND position_id = $2::uuid AND fee = $3",
                fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), opened.PositionId, fill.Commission));
        }

        Assert.True(fees > 0m);
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// The venue liquidates a position (its own "autoclose-" order, as Binance names liquidation orders); reconciliation
    /// records the close as a liquidation: the record's status, its PositionClosed event and a critical risk event say
    /// so. Before, it was booked as an ordinary close, as if a stop-loss or take-profit had fired.
    /// </summary>
    [Fact]
    public async Task Reconcile_PositionLiquidatedAtTheVenue_RecordedAsLiquidatedWithItsFills()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 5, marginType: TradeEngine.Common.V1.MarginType.Isolated));
        Assert.Empty(opened.Denials);
        var venue = stack.Venue();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var updates = stack.Execution.StreamPositionUpdates(new StreamPositionUpdatesRequest(), cancellationToken: cts.Token);
        Assert.True(await updates.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(PositionUpdateKind.Snapshot, updates.ResponseStream.Current.Kind);

        // 5x isolated long from 100,000: liquidated near 80,400; the mark falls to 75,000.
        await stack.Paper.SetPriceAsync("BTCUSDT", 75000m);
        await ExecutionStack.WaitUntilAsync(async () => (await venue.GetPositionsAsync("BTCUSDT")).All(p => p.PositionAmt == 0m), TimeSpan.FromSeconds(10));
        var liquidation = Assert.Single(await stack.Paper.OrdersAsync(), o => o.ClientOrderId.StartsWith("autoclose-", StringComparison.Ordinal));

        Assert.True(await stack.ReconcileAsync() >= 1);

        // Subscribers hear of it as of any close.
        Assert.True(await updates.ResponseStream.MoveNext(cts.Token));
        Assert.Equal((PositionUpdateKind.Closed, opened.PositionId), (updates.ResponseStream.Current.Kind, updates.ResponseStream.Current.Position.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'liquidated' AND exit_reason = $2", opened.PositionId, $"venue: liquidated (order {liquidation.ClientOrderId})"));
        Assert.Equal(1, await stack.CountAsync(
            "outbox WHERE message_type = 'PositionClosed' AND payload->>'PositionId' = $1 AND payload->>'Liquidated' = 'true'", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE position_id = $1::uuid AND side = 'sell'", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE severity = 'critical' AND symbol = 'BTCUSDT' AND reason LIKE '%liquidated%' AND reason LIKE $1", "%" + liquidation.ClientOrderId + "%"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A reduce whose Ledger write was lost, then the rest closed at the venue: reconciliation books the venue's close with
    /// both orders' fills, each under its own order's client id, so the reduce's retry finds its trades and is answered
    /// as the reduce it was. Before, every fill was booked under one made-up id, and the retry logged a false
    /// "reduce-unrecorded" mismatch and answered an empty position id.
    /// </summary>
    [Fact]
    public async Task Reconcile_VenueCloseOfALostReduceAndTheRest_EachFillUnderItsOrdersId_TheReducesRetryFindsItsTrades()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var (opened, reduceId, _) = await OpenWithALostReduceAsync(stack);
        // The close comes later than the reduce on the venue's clock: in the same millisecond the reduce's retry cannot
        // tell it from the order that closed the position (seen under load).
        await stack.Paper.AdvanceAsync(TimeSpan.FromSeconds(1));
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 1.5m, ReduceOnly: true), "by-hand-close");

        Assert.True(await stack.ReconcileAsync() >= 1);
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid AND quantity = 0.5", reduceId, opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = 'by-hand-close' AND position_id = $1::uuid AND quantity = 1.5", opened.PositionId));

        var retried = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = reduceId, Symbol = "ETHUSDT", Quantity = "0.5" });

        Assert.True(retried.Replayed);
        Assert.Equal(opened.PositionId, retried.PositionId);
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE reason LIKE '%Reduced ETHUSDT by 0.5 at the venue, but the Ledger had no open record%'"));
        Assert.Single(await stack.Paper.OrdersAsync(reduceId));
    }

    [Fact]
    public async Task ClosePosition_LedgerDown_ClosedAtTheVenueAtOnceAndRecordedWithItsFillsWhenTheLedgerIsBack()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        await stack.StopLedgerAsync();

        // Closing takes risk off: it must not wait for the bookkeeping.
        var close = new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT" };
        var closed = await stack.Execution.ClosePositionAsync(close);

        Assert.Contains(closed.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        Assert.Equal("1", closed.Quantity);
        Assert.All(await stack.Venue().GetPositionsAsync("ETHUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        Assert.True(writes.Backlog > 0);

        await stack.StartLedgerAsync();

        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the deferred close");
        Assert.Equal(1, await stack.CountAsync(
            "positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_reason = 'Manual close' AND exit_price = $2",
            opened.PositionId, decimal.Parse(closed.ExitPrice, System.Globalization.CultureInfo.InvariantCulture)));
        var exitFills = (await stack.Venue().GetUserTradesAsync(new TradeEngine.Binance.Models.UserTradesQuery("ETHUSDT", Limit: 1000)))
            .Where(t => t.Side == TradeEngine.Binance.Models.OrderSide.Sell).ToList();
        Assert.NotEmpty(exitFills);
        foreach (var fill in exitFills)
        {
            Assert.Equal(1, await stack.CountAsync("trades WHERE exchange_trade_id = $1 AND position_id = $2::uuid",
                fill.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), opened.PositionId));
        }

        Assert.Equal(0, await stack.ReconcileAsync());
    }

    [Fact]
    public async Task Shutdown_WithAFillStillQueuedForTheLedger_OneLastAttemptLandsIt()
    {
        // After a failed attempt the queue waits ten minutes: once the Ledger is back, only the last attempt that
        // shutdown makes can land the queued fill.
        await using var stack = await StartWithRetriesTenMinutesApartAsync();
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        Assert.Contains((await OpenWhileTheLedgerGoesDownAsync(stack, open)).Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        Assert.True(writes.Backlog > 0);
        // The queue's own first attempt has failed (on a loaded machine it can come late, and would land once the Ledger is back).
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.DrainFailures > 0), TimeSpan.FromSeconds(30), "the queue's first attempt");

        await stack.StartLedgerAsync();
        Assert.Equal(0, await stack.CountAsync("positions"));
        await stack.StopExecutionAsync();

        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
    }

    /// <summary>
    /// The Ledger is still down when Execution begins to stop and comes back a moment later, within the shutdown's grace:
    /// the queued fill is tried again until it lands. Before, the one attempt at shutdown failed and the fill was lost
    /// with the process (left for the next start's reconciliation to adopt from the venue).
    /// </summary>
    [Fact]
    public async Task Shutdown_TheLedgerBackWithinTheGrace_TheQueuedFillStillLands()
    {
        await using var stack = await StartWithRetriesTenMinutesApartAsync();
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        Assert.Contains((await OpenWhileTheLedgerGoesDownAsync(stack, open)).Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        Assert.True(stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>().Backlog > 0);

        var stopping = stack.StopExecutionAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stack.StartLedgerAsync();
        await stopping;

        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(1, await stack.CountAsync("trades WHERE client_order_id = $1", open.ClientOrderId));
    }

    /// <summary>
    /// At shutdown the queue gets one last attempt in order; a write the domain refuses is dropped there as in the drain
    /// loop, and the writes behind it still land. Before, the last attempt stopped at it and lost every write behind.
    /// </summary>
    [Fact]
    public async Task Shutdown_AQueuedWriteTheDomainRefuses_DroppedAndTheWritesBehindItStillLand()
    {
        // After the first write's failed attempt the queue waits ten minutes: only shutdown's last attempt runs the rest.
        await using var stack = await StartWithRetriesTenMinutesApartAsync();
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        var firstAttempts = 0;
        var behindLanded = false;
        writes.Defer("a write the Ledger does not take at first", _ => Interlocked.Increment(ref firstAttempts) == 1
            ? throw new RpcException(new Status(StatusCode.Unavailable, "not now"))
            : Task.CompletedTask);
        writes.Defer("a close of nothing", _ => throw new TradeEngine.Domain.DomainException("closedQuantity", "must be greater than 0"));
        writes.Defer("the write behind it", _ =>
        {
            behindLanded = true;
            return Task.CompletedTask;
        });
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref firstAttempts) == 1), TimeSpan.FromSeconds(10), "the first attempt");

        await stack.StopExecutionAsync();

        Assert.Equal(2, Volatile.Read(ref firstAttempts));
        Assert.True(behindLanded);
        Assert.Equal(0, writes.Backlog);
    }

    [Fact]
    public async Task OpenAfterADeferredClose_LandsAfterIt_TheClosedRecordIsNotAddedTo()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var first = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        await stack.StopLedgerAsync();
        var closed = await stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "ETHUSDT" });
        Assert.Contains(closed.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));

        // The Ledger is back, but the close is still queued: a new open must not land first (it would be an add to the
        // record the close is about to close).
        await stack.StartLedgerAsync();
        var second = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));

        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued writes");
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'closed' AND quantity = 1", first.PositionId));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.5"));
        Assert.Equal(0, await stack.ReconcileAsync());
        Assert.Equal("0.5", second.Quantity);
    }

    [Theory]
    [InlineData("00:00:00", "00:00:10")]
    [InlineData("00:00:05", "00:00:01")]
    [InlineData("00:00:05", "1.00:00:00")]
    public async Task Start_LedgerWriteRetryDelaysOutOfOrder_RefusedAtStartNamingTheSetting(string delay, string maxDelay)
    {
        var host = new GrpcServiceHost<TradeEngine.Execution.Services.ExecutionGrpcService>(FreePort.Next(), new Dictionary<string, string?>
        {
            ["Execution:LedgerWriteRetryDelay"] = delay, ["Execution:LedgerWriteRetryMaxDelay"] = maxDelay,
            ["Binance:BaseUrl"] = "http://127.0.0.1:9", ["Binance:ApiKey"] = "k", ["Binance:ApiSecret"] = "s",
            ["services:ledger:http:0"] = "http://127.0.0.1:9", ["services:funding:http:0"] = "http://127.0.0.1:9",
            ["services:risk:http:0"] = "http://127.0.0.1:9", ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
        });
        await using (host)
        {
            var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(host.StartAsync);
            Assert.Contains("Execution:LedgerWriteRetryDelay", refused.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Stops Execution once the venue has the order under <paramref name="clientOrderId"/> (while the call that placed it
    /// is still on its way, held up by a latency fault after it), and asserts the call was not answered INTERNAL.
    /// </summary>
    private static async Task StopExecutionOnceTheVenueHasAsync(ExecutionStack stack, string clientOrderId, string what, Task inFlight)
    {
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(clientOrderId)).Count > 0, TimeSpan.FromSeconds(20), what);

        await stack.StopExecutionAsync();

        var answer = await Record.ExceptionAsync(() => inFlight);
        Assert.False(answer is RpcException { StatusCode: StatusCode.Internal }, answer?.Message);
    }

    /// <summary>A 2 ETHUSDT long, then a reduce of 0.5 that the venue filled and whose Ledger write died with Execution.</summary>
    private static async Task<(OpenPositionResponse Opened, string ReduceId, OrderInfo Reduce)> OpenWithALostReduceAsync(ExecutionStack stack)
    {
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "2", leverage: 2));
        var reduceId = Orders.NewId("reduce");
        var placed = await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Sell, OrderType.Market, 0.5m, ReduceOnly: true), reduceId);
        return (opened, reduceId, placed.Order);
    }

    /// <summary>
    /// Execution begins to stop after an open's order filled and while its stop-loss is on the way: the stop-loss is still
    /// placed and the open recorded, and the caller is not told INTERNAL. Before, the stop cut the placement short (no
    /// stop-loss, no record, INTERNAL), and the restart adopted the position without the stop-loss asked for.
    /// </summary>
    [Fact]
    public async Task OpenPosition_ExecutionStoppingWhileTheStopLossIsOnTheWay_StillPlacedAndRecorded()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/algoOrder", latencyMs: 1_500);
        var open = Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000");
        var inFlight = stack.Execution.OpenPositionAsync(open).ResponseAsync;
        await StopExecutionOnceTheVenueHasAsync(stack, open.ClientOrderId, "the fill", inFlight);
        var guard = Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
        Assert.Equal(95000m, guard.TriggerPrice);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT' AND quantity = 0.01 AND stop_loss_price = 95000"));
    }

    /// <summary>
    /// Execution begins to stop right after a close's order filled, while its fills are being read: the close is still
    /// recorded, with its reason, and the stop-loss cancelled, as an open's record is. Before, the stop cut them short: the
    /// record stayed open, to be booked by the next start's reconciliation as a close at the venue under another reason.
    /// </summary>
    [Fact]
    public async Task ClosePosition_ExecutionStoppingRightAfterTheCloseFilled_StillRecordedWithItsReason()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 1_500);
        var close = Orders.Close("BTCUSDT");
        var inFlight = stack.Execution.ClosePositionAsync(close).ResponseAsync;
        await StopExecutionOnceTheVenueHasAsync(stack, close.ClientOrderId, "the close's fill", inFlight);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_reason = 'test close'", opened.PositionId));
        Assert.True(await stack.CountAsync("trades WHERE client_order_id = $1", close.ClientOrderId) > 0);
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
    }

    /// <summary>
    /// As above, in a close-all: Execution begins to stop right after the first symbol's close filled. That close is still
    /// recorded, the symbols after it are left to the next start (the service is stopping), and the risk event says what
    /// was done. Before, the stop cut the first close's record short and no risk event was logged.
    /// </summary>
    [Fact]
    public async Task CloseAll_ExecutionStoppingRightAfterTheFirstCloseFilled_ThatCloseRecordedAndTheRiskEventLogged()
    {
        // No events: the KillSwitchTriggered consumer's own sweep stays out of it.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, ledgerOverrides: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:RelayEnabled"] = "false",
        });
        var btc = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 1_500);
        var key = Orders.NewId("ca");
        var inFlight = stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = key, Reason = "test close-all" }).ResponseAsync;
        var btcClose = Mapping.ExecutionWire.Derived(key, "BTCUSDT");
        await StopExecutionOnceTheVenueHasAsync(stack, btcClose, "BTC's close", inFlight);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'closed' AND exit_reason = 'test close-all'", btc.PositionId));
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE 'test close-all: 1 symbol(s) flattened, 1 failed%'"));
    }

    /// <summary>As above, for a reduce: Execution begins to stop right after its order filled, and the reduce is still recorded.</summary>
    [Fact]
    public async Task ReducePosition_ExecutionStoppingRightAfterTheReduceFilled_StillRecorded()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "2", leverage: 2));
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 1_500);
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Fraction = "0.25", Reason = "test" };
        var inFlight = stack.Execution.ReducePositionAsync(reduce).ResponseAsync;
        await StopExecutionOnceTheVenueHasAsync(stack, reduce.ClientOrderId, "the reduce's fill", inFlight);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 1.5", opened.PositionId));
        Assert.True(await stack.CountAsync("trades WHERE client_order_id = $1", reduce.ClientOrderId) > 0);
    }

    /// <summary>
    /// The venue answers the open's and the close's market orders while they are still working (NEW, nothing filled), as
    /// an order found by its id after an unknown outcome can be. Each is read again until it ends: the open is answered
    /// with its fill and its stop-loss placed, the close with its PnL, and both are booked. Before, the open was answered
    /// "did not fill" while its position stood at the venue without the stop-loss asked for.
    /// </summary>
    [Fact]
    public async Task OpenAndClose_AnsweredWhileTheirOrdersAreStillWorking_EachReadUntilItEnds()
    {
        static OrderPlacement StillWorking(OrderPlacement placed) => placed.Order.Type == "MARKET"
            ? placed with { Order = placed.Order with { Status = OrderStatus.New, ExecutedQty = 0m, AvgPrice = 0m, CumQuote = 0m } }
            : placed;
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionServices: s => VenueTap.Install(s, StillWorking));

        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));

        Assert.Equal(0.01m, Wire.Decimal(opened.Quantity, "quantity"));
        Assert.True(Wire.Decimal(opened.EntryPrice, "entry_price") > 0m);
        Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'open' AND quantity = 0.01", opened.PositionId));

        var closed = await stack.Execution.ClosePositionAsync(Orders.Close("BTCUSDT"));

        Assert.NotEmpty(closed.RealizedPnl);
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND status = 'closed'", opened.PositionId));
        Assert.Empty(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT"));
    }

    /// <summary>The reduce's change is put in the Ledger without its trade (booked at the mark by a reconciliation, say).</summary>
    private static async Task BookWithoutItsTradeAsync(ExecutionStack stack, OpenPositionResponse opened, OrderInfo reduce) =>
        await stack.Ledger.ReducePositionAsync(new TradeEngine.Ledger.V1.ReducePositionRequest
        {
            IdempotencyKey = "booked-at-mark", PositionId = opened.PositionId, Quantity = "0.5", ExitPrice = "3000", Fee = "0",
            ReducedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(reduce.UpdateTime),
        });

    /// <summary>The reduce of <see cref="OpenWithALostReduceAsync"/> is in the books: the record holds 1.5, with the order's trades.</summary>
    private static async Task AssertTheLostReduceBookedAsync(ExecutionStack stack, OpenPositionResponse opened, string reduceId)
    {
        Assert.Equal(1, await stack.CountAsync("positions WHERE position_id = $1::uuid AND quantity = 1.5", opened.PositionId));
        Assert.True(await stack.CountAsync("trades WHERE client_order_id = $1", reduceId) > 0);
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A stack whose queue of Ledger writes waits ten minutes after a failed attempt: in a test, only the last attempt
    /// that shutdown makes can land a write queued while the Ledger was down.
    /// </summary>
    private Task<ExecutionStack> StartWithRetriesTenMinutesApartAsync() =>
        ExecutionStack.StartAsync(postgres, rabbit, executionSettings: new Dictionary<string, string?>
        {
            ["Execution:LedgerWriteRetryDelay"] = "00:10:00", ["Execution:LedgerWriteRetryMaxDelay"] = "00:10:00",
        });

    /// <summary>Opens with the fee look-up after the fill slowed down, and stops the Ledger in that window.</summary>
    private static async Task<OpenPositionResponse> OpenWhileTheLedgerGoesDownAsync(ExecutionStack stack, OpenPositionRequest open)
    {
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 1_500);
        var inFlight = stack.Execution.OpenPositionAsync(open).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(open.ClientOrderId)).Count > 0, TimeSpan.FromSeconds(20), "the fill");
        await stack.StopLedgerAsync();
        return await inFlight.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
