using System.Globalization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Common.V1;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>The margin monitor's alerts, acted on by Execution through the shared inbox.</summary>
[Collection(StackCollection.Name)]
public sealed class MarginResponseTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task MarginAlerts_PricePathToReduceThenLiquidateAll_LargestHalvesThenAllClosedAndOpensRefused()
    {
        // Small enough that the loss which drives the ratio down stays under the 500 USDT daily-loss hard limit
        // (a breach would pull the kill switch first and flatten everything before any reduce).
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, marginMonitor: true,
            paperSettings: new Dictionary<string, string?> { ["Paper:StartingBalance"] = "200" });
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.004", leverage: 5))).Denials);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.15", leverage: 5))).Denials);

        // Drive BTC down until the plan's ratio (equity / maintenance) sits between 1 and 1 + buffer: Reduce.
        var account = await stack.Execution.GetAccountAsync(new GetAccountRequest());
        var wallet = Parse(account.WalletBalance);
        var btcPrice = PriceForRatio(wallet, 1.07m);
        await stack.Paper.SetPriceAsync("BTCUSDT", btcPrice);

        // ETH (0.15 × 3000 = 450) is the largest by notional (BTC 0.004 × ~51,000 ≈ 204): it halves.
        await WaitUntilAsync(stack, async () => (await QuantityAsync(stack, "ETHUSDT")) == 0.075m, TimeSpan.FromSeconds(30));
        Assert.Equal(0.004m, await QuantityAsync(stack, "BTCUSDT"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.075"));
        Assert.False((await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);

        // Below 1 the venue liquidates by itself at the same instant the monitor would alert, so the liquidate-all
        // alert is delivered as the monitor publishes it; delivered twice, it is acted on once.
        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.LiquidateAll, 0.95m, 12m, 12.6m, "ratio below 1");
        var bus = stack.ExecutionHost.Services.GetRequiredService<IBus>();
        await bus.Publish(alert);
        await bus.Publish(alert);

        await WaitUntilAsync(stack, async () => (await stack.Execution.ListPositionsAsync(new ListPositionsRequest())).Positions.Count == 0, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(stack, async () => (await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active, TimeSpan.FromSeconds(10));
        await Task.Delay(1000);
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
        // One close per symbol, though the alert came twice. It is the alert's close-all or the kill switch's (the alert
        // pulls the switch first, and Execution's KillSwitchTriggered consumer flattens too): whichever comes second to
        // a symbol finds it flat. ETH's other SELL is the earlier halving.
        var orders = await stack.Paper.OrdersAsync();
        Assert.Single(orders, o => o.Symbol == "BTCUSDT" && o.Side == "SELL");
        Assert.Equal(2, orders.Count(o => o.Symbol == "ETHUSDT" && o.Side == "SELL"));
        var refused = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1", leverage: 2));
        Assert.Contains(refused.Denials, d => d.Code == RiskReasonCode.KillSwitchActive);
    }

    [Fact]
    public async Task KillSwitchTriggered_OperatorPullsIt_ExecutionFlattensEveryPosition()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));

        await stack.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = KillSwitchTrigger.Operator, Reason = "operator test", Actor = "tester",
        });

        await WaitUntilAsync(stack, async () => (await stack.Execution.ListPositionsAsync(new ListPositionsRequest())).Positions.Count == 0, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'open'") == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
    }

    /// <summary>
    /// A position on a contract this system does not trade (here ETHUSDT listed as USDC-margined, held by hand, the
    /// largest by notional) is not the one a margin alert halves: the largest USDT position is. Before, the venue's
    /// largest position was halved whatever it was margined in.
    /// </summary>
    [Fact]
    public async Task MarginAlertReduce_LargestPositionNotTradedHere_TheLargestUsdtPositionHalves()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            executionServices: s => TradeEngine.Testing.Venue.VenueProxy.Install(s, real =>
                TradeEngine.Testing.Venue.VenueProxy.Wrap(real, TradeEngine.Testing.Venue.VenueProxy.ListingAs("ETHUSDT", "USDC"))));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2)); // 1,000 USDT
        await stack.Venue().PlaceOrderAsync(new Binance.Models.NewOrder("ETHUSDT", Binance.Models.OrderSide.Buy, Binance.Models.OrderType.Market, 1m), "by-hand-eth"); // ~3,000

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);

        await WaitUntilAsync(stack, async () => await QuantityAsync(stack, "BTCUSDT") == 0.005m, TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        Assert.Equal(1m, await QuantityAsync(stack, "ETHUSDT"));
        Assert.Equal(0.005m, await QuantityAsync(stack, "BTCUSDT"));
    }

    /// <summary>
    /// A margin alert when the only open position is one this system does not book: nothing is reduced, and the operator
    /// gets a critical risk event naming it (a margin call left unanswered), not an information line.
    /// </summary>
    [Fact]
    public async Task MarginAlertReduce_OnlyAPositionNotBookedHere_NothingReducedAndACriticalRiskEvent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            executionServices: s => TradeEngine.Testing.Venue.VenueProxy.Install(s, real =>
                TradeEngine.Testing.Venue.VenueProxy.Wrap(real, TradeEngine.Testing.Venue.VenueProxy.ListingAs("ETHUSDT", "USDC"))));
        await stack.Venue().PlaceOrderAsync(new Binance.Models.NewOrder("ETHUSDT", Binance.Models.OrderSide.Buy, Binance.Models.OrderType.Market, 1m), "by-hand-eth");

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);

        await WaitUntilAsync(stack, async () => await stack.CountAsync("risk_events WHERE event_type = 'margin_reduce_failed'") > 0, TimeSpan.FromSeconds(30));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'margin_reduce_failed' AND severity = 'critical' AND reason LIKE $1",
            $"Margin alert {alert.EventId}: nothing reduced; the only open positions are on contracts this system does not book (ETHUSDT)"));
        Assert.Equal(1m, await QuantityAsync(stack, "ETHUSDT"));
    }

    [Fact]
    public async Task MarginAlertReduce_RedeliveredAfterItsOrderWasPlaced_FinishesThatReduceAndLeavesTheNextLargestAlone()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2)); // 1,000 USDT
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2)); // ~600 USDT
        // The first delivery halves BTC, then cannot read the fills (the read and its retry fail): it is redelivered.
        // Halved, BTC (500) is no longer the largest; planning again would halve ETH too.
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/userTrades", 2);

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);

        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT' AND quantity = 0.005") == 1,
            TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        Assert.Equal(0.005m, await QuantityAsync(stack, "BTCUSDT"));
        Assert.Equal(0.2m, await QuantityAsync(stack, "ETHUSDT"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.2"));
        var reduceId = Mapping.ExecutionWire.Derived("ma-" + alert.EventId.ToString("N", CultureInfo.InvariantCulture), "reduce");
        Assert.Single(await stack.Paper.OrdersAsync(), o => o.ClientOrderId == reduceId);
    }

    /// <summary>
    /// The largest position is too small to halve (half is under one step), so the alert closes it. A redelivery the
    /// inbox does not catch (the first delivery died before its entry was completed) finds that close, though the
    /// symbol is flat at the venue and closed in the Ledger, and does not plan again (which would halve ETH as well).
    /// </summary>
    [Fact]
    public async Task MarginAlertReduce_SmallLargestClosedThenRedeliveredPastTheInbox_NothingElseReduced()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.001", leverage: 2)); // 100 USDT, half under a step
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.02", leverage: 2)); // ~60 USDT
        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        var bus = stack.ExecutionHost.Services.GetRequiredService<IBus>();
        await bus.Publish(alert);
        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'BTCUSDT'") == 1, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(stack, async () => await stack.CountAsync("inbox WHERE event_id = $1", alert.EventId) == 1, TimeSpan.FromSeconds(10));

        await stack.ExecuteSqlAsync("DELETE FROM inbox WHERE event_id = $1", alert.EventId);
        await bus.Publish(alert);
        await WaitUntilAsync(stack, async () => await stack.CountAsync("inbox WHERE event_id = $1", alert.EventId) == 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);

        Assert.Equal(0.02m, await QuantityAsync(stack, "ETHUSDT"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.02"));
        Assert.Single(await stack.Paper.OrdersAsync(), o => o.Symbol == "BTCUSDT" && o.Side == "SELL");
        Assert.DoesNotContain(await stack.Paper.OrdersAsync(), o => o.Symbol == "ETHUSDT" && o.Side == "SELL");
    }

    /// <summary>
    /// The reduce meets an empty book: the market order expires with nothing filled. Before, every redelivery found that
    /// spent order under the alert's one id and failed on it; the alert went to the error queue and the position was never
    /// reduced (the monitor alerts once per change of state). Now the next delivery plans again under a new id.
    /// </summary>
    [Fact]
    public async Task MarginAlertReduce_FirstOrderExpiresUnfilled_NextAttemptHalvesTheLargest()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2)); // 1,000 USDT
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2)); // ~600 USDT
        await stack.Paper.SetDepthAsync("BTCUSDT", 0m);

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        var key = "ma-" + alert.EventId.ToString("N", CultureInfo.InvariantCulture);
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);
        var first = Consumers.MarginAlertRaisedConsumer.ReduceId(key);
        await WaitUntilAsync(stack, async () => (await stack.Paper.OrdersAsync(first)).Count == 1, TimeSpan.FromSeconds(30));
        await stack.Paper.SetDepthAsync("BTCUSDT", null);

        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'BTCUSDT' AND quantity = 0.005") == 1,
            TimeSpan.FromSeconds(30));
        Assert.Equal(0.005m, await QuantityAsync(stack, "BTCUSDT"));
        Assert.Equal(0.2m, await QuantityAsync(stack, "ETHUSDT"));
        // The attempts in order: every one before the fill expired unfilled, the fill under the next attempt's id, none after.
        var sells = (await stack.Paper.OrdersAsync()).Where(o => o.Side == "SELL").OrderBy(o => o.OrderId).ToList();
        Assert.InRange(sells.Count, 2, Consumers.MarginAlertRaisedConsumer.MaxOrderAttempts);
        Assert.Equal(Enumerable.Range(1, sells.Count).Select(n => Consumers.MarginAlertRaisedConsumer.ReduceId(key, n)), sells.Select(o => o.ClientOrderId));
        Assert.All(sells.SkipLast(1), o => Assert.Equal(("BTCUSDT", "EXPIRED", 0m), (o.Symbol, o.Status, o.ExecutedQty)));
        Assert.Equal(("BTCUSDT", "FILLED", 0.005m), (sells[^1].Symbol, sells[^1].Status, sells[^1].ExecutedQty));
    }

    /// <summary>
    /// An isolated position near its own liquidation price in an account far from any limit: Execution's account shows
    /// its isolated wallet, Risk's monitor raises a Reduce naming it, and Execution closes that one in one order, not
    /// the largest (halving another does nothing for the margin the venue liquidates it against, and halving it would not
    /// move its ratio). Before, the monitor judged the account's totals only, and nothing happened until the venue
    /// liquidated it.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_IsolatedPositionNearItsLiquidation_ThatPositionClosedNotTheLargest()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, marginMonitor: true);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2))).Denials); // 1,000 USDT
        Assert.Empty((await stack.Execution.OpenPositionAsync(
            Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 5, marginType: TradeEngine.Common.V1.MarginType.Isolated))).Denials); // ~600 USDT

        var account = await stack.Execution.GetAccountAsync(new GetAccountRequest());
        Assert.Equal("", account.Positions.Single(p => p.Symbol == "BTCUSDT").IsolatedWallet);
        var eth = account.Positions.Single(p => p.Symbol == "ETHUSDT");
        var own = Parse(eth.IsolatedWallet);
        Assert.InRange(own, 100m, 130m); // 0.2 × ~3,000 / 5
        var entry = Parse(eth.EntryPrice);
        var brackets = BracketTables.For(new Symbol("ETHUSDT"));
        // The Reduce band is narrow in price (the ratio moves by about 0.08 a dollar here): walked down by the tick.
        var price = Math.Floor(entry);
        while ((own + 0.2m * (price - entry)) / MarginMath.MaintenanceMargin(0.2m * price, brackets) > 1.08m)
        {
            price -= 0.01m;
        }

        await stack.Paper.SetPriceAsync("ETHUSDT", price);

        await WaitUntilAsync(stack, async () => await stack.CountAsync(
            "positions WHERE status = 'closed' AND symbol = 'ETHUSDT' AND exit_reason LIKE 'Margin alert: close the isolated ETHUSDT position%'") == 1,
            TimeSpan.FromSeconds(30));
        Assert.Equal(0m, await QuantityAsync(stack, "ETHUSDT"));
        Assert.Equal(0.01m, await QuantityAsync(stack, "BTCUSDT"));
        var sell = Assert.Single(await stack.Paper.OrdersAsync(), o => o.Side == "SELL");
        Assert.Equal(("ETHUSDT", 0.2m), (sell.Symbol, sell.ExecutedQty));
        Assert.False((await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>Every attempt meets an empty book: the operator gets a critical risk event, and nothing else is touched.</summary>
    [Fact]
    public async Task MarginAlertReduce_EveryOrderExpiresUnfilled_CriticalRiskEventAndNothingElseReduced()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2", leverage: 2));
        await stack.Paper.SetDepthAsync("BTCUSDT", 0m);

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);

        await WaitUntilAsync(stack, async () => await stack.CountAsync(
            "risk_events WHERE event_type = 'margin_reduce_failed' AND severity = 'critical' AND symbol = 'BTCUSDT'") == 1, TimeSpan.FromSeconds(60));
        var sells = (await stack.Paper.OrdersAsync()).Where(o => o.Side == "SELL").ToList();
        Assert.Equal(Consumers.MarginAlertRaisedConsumer.MaxOrderAttempts, sells.Count);
        Assert.All(sells, o => Assert.Equal(("BTCUSDT", "EXPIRED", 0m), (o.Symbol, o.Status, o.ExecutedQty)));
        Assert.Equal(0.01m, await QuantityAsync(stack, "BTCUSDT"));
        Assert.Equal(0.2m, await QuantityAsync(stack, "ETHUSDT"));
    }

    /// <summary>
    /// Every delivery of a reduce alert fails before it can place anything (the venue will not list positions): the
    /// last one logs a critical risk event, so the operator learns the margin call was not acted on.
    /// </summary>
    [Fact]
    public async Task MarginAlertReduce_EveryDeliveryFails_LastOneLogsACriticalRiskEvent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", leverage: 2));
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 1_000);

        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);

        await WaitUntilAsync(stack, async () => await stack.CountAsync(
            "risk_events WHERE event_type = 'margin_reduce_failed' AND severity = 'critical' AND reason LIKE $1", $"Margin alert {alert.EventId}: its last delivery failed%") == 1,
            TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(await stack.Paper.OrdersAsync(), o => o.Side == "SELL");
    }

    /// <summary>
    /// Every delivery of a kill switch's flatten fails (the venue will not list positions): the last one logs a critical
    /// risk event, as the margin call's does. Before, the event went to the error queue with nothing on record.
    /// </summary>
    [Fact]
    public async Task KillSwitchTriggered_EveryDeliveryFails_LastOneLogsACriticalRiskEvent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 1_000);

        var on = new KillSwitchTriggered(NewId.NextGuid(), DateTimeOffset.UtcNow, true, "operator", "operator test", "tester");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(on);

        await WaitUntilAsync(stack, async () => await stack.CountAsync(
            "risk_events WHERE event_type = 'kill_switch_flatten_failed' AND severity = 'critical' AND reason LIKE $1", $"Kill switch {on.EventId}: its last delivery failed%") == 1,
            TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(await stack.Paper.OrdersAsync(), o => o.Side == "SELL");
    }

    [Fact]
    public async Task KillSwitchTriggered_OneCloseRefusedByTheVenue_RedeliveryClosesWhatIsLeft()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));
        // The next four order placements are refused (the client's own retry included): the first attempt's close fails,
        // and so does its final sweep's, which tries every symbol still open again.
        await stack.Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v1/order", 4);

        await stack.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = KillSwitchTrigger.Operator, Reason = "operator test", Actor = "tester",
        });

        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'open'") == 0, TimeSpan.FromSeconds(30));
        Assert.All(await stack.Venue().GetPositionsAsync("ETHUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
        // Both attempts are on record: the one that failed and the one that finished.
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE '%0 symbol(s) flattened, 1 failed;%'"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE '%1 symbol(s) flattened, 0 failed;%'"));
    }

    /// <summary>
    /// The kill switch goes on while the book is empty: every close of the first delivery (the first pass's and the final
    /// sweep's) expires unfilled. Before, those spent the delivery's every close id, and each redelivery walked the same
    /// spent orders, placed nothing and failed, so the position stayed open under the switch once the book was back. Now
    /// a redelivery steps over them and closes under the next id.
    /// </summary>
    [Fact]
    public async Task KillSwitchTriggered_ClosesExpireOnAnEmptyBook_ARedeliveryClosesOnceTheBookIsBack()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));
        await stack.Paper.SetDepthAsync("ETHUSDT", 0m);

        await stack.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = KillSwitchTrigger.Operator, Reason = "operator test", Actor = "tester",
        });
        // The first delivery over: its eight closes (four ids in each pass) expired.
        await WaitUntilAsync(stack, async () => await stack.CountAsync(
            "risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE '%0 symbol(s) flattened, 1 failed;%'") >= 1, TimeSpan.FromSeconds(30));
        Assert.True((await stack.Paper.OrdersAsync()).Count(o => o.Side == "SELL" && o.Status == "EXPIRED") >= 8);
        await stack.Paper.SetDepthAsync("ETHUSDT", null);

        await WaitUntilAsync(stack, async () => await stack.CountAsync("positions WHERE status = 'open'") == 0, TimeSpan.FromSeconds(30));
        Assert.All(await stack.Venue().GetPositionsAsync("ETHUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        var sells = (await stack.Paper.OrdersAsync()).Where(o => o.Side == "SELL").ToList();
        Assert.Equal(("ETHUSDT", 0.5m), (Assert.Single(sells, o => o.Status == "FILLED").Symbol, sells.Single(o => o.Status == "FILLED").ExecutedQty));
        Assert.All(sells.Where(o => o.Status != "FILLED"), o => Assert.Equal(("EXPIRED", 0m), (o.Status, o.ExecutedQty)));
        Assert.Equal(sells.Count, sells.Select(o => o.ClientOrderId).Distinct().Count());
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE event_type = 'kill_switch_flatten_failed'"));
    }

    /// <summary>
    /// The kill switch's event arrives while Risk does not answer: the final sweep runs all the same (the event says the
    /// switch is on). A position opened at the venue while the first pass's close was on its way is closed by it. Before,
    /// a Risk that did not answer read as a switch that was off: no sweep, the delivery passed, the position stood.
    /// </summary>
    [Fact]
    public async Task KillSwitchTriggered_RiskDoesNotAnswer_TheFinalSweepStillClosesAPositionOpenedMeanwhile()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: new Dictionary<string, string?>
        {
            ["services:risk:http:0"] = "http://127.0.0.1:1/",
        });
        var venue = stack.Venue();
        await venue.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.2m), Orders.NewId("hand"));
        var orders = await stack.Paper.RequestCountAsync("POST /fapi/v1/order");
        // The close's two order requests (its look-up, then its order) are held 1.5 s each on the way in.
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", count: 2, latencyMs: 1_500);

        var on = new KillSwitchTriggered(NewId.NextGuid(), DateTimeOffset.UtcNow, true, "operator", "operator test", "tester");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(on);
        await WaitUntilAsync(stack, async () => await stack.Paper.RequestCountAsync("POST /fapi/v1/order") > orders, TimeSpan.FromSeconds(30));
        // After the first pass listed the positions: one it has not seen.
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.002m), Orders.NewId("hand"));

        await WaitUntilAsync(stack, async () => (await venue.GetPositionsAsync()).All(p => p.PositionAmt == 0m), TimeSpan.FromSeconds(30));
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE event_type = 'emergency_close_all' AND reason = 'Kill switch: operator test: 2 symbol(s) flattened, 0 failed; kill switch unknown (Risk did not answer)'"));
    }

    /// <summary>The BTC price at which (wallet + unrealized) / maintenance margin equals <paramref name="ratio"/>, ETH held at 3000.</summary>
    private static decimal PriceForRatio(decimal wallet, decimal ratio)
    {
        var btc = BracketTables.For(new Symbol("BTCUSDT"));
        var eth = BracketTables.For(new Symbol("ETHUSDT"));
        var ethMaintenance = MarginMath.MaintenanceMargin(0.15m * 3000m, eth);
        decimal Ratio(decimal p) => (wallet + 0.004m * (p - 100_000m)) / (MarginMath.MaintenanceMargin(0.004m * p, btc) + ethMaintenance);
        decimal low = 1_000m, high = 100_000m;
        for (var i = 0; i < 60; i++)
        {
            var mid = (low + high) / 2m;
            if (Ratio(mid) < ratio)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return Math.Round(high, 1, MidpointRounding.ToPositiveInfinity);
    }

    private static decimal Parse(string text) => decimal.Parse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static async Task<decimal> QuantityAsync(ExecutionStack stack, string symbol)
    {
        var positions = await stack.Execution.ListPositionsAsync(new ListPositionsRequest());
        return positions.Positions.Where(p => p.Symbol == symbol).Select(p => Parse(p.Quantity)).SingleOrDefault();
    }

    /// <summary>Polls <paramref name="condition"/>; on timeout fails with how the stack's events were delivered.</summary>
    private static async Task WaitUntilAsync(ExecutionStack stack, Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds} s; the events: {await stack.DescribeEventDeliveryAsync()}");
            }

            await Task.Delay(100);
        }
    }
}
