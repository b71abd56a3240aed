using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests;

/// <summary>The emergency close-all over gRPC: every position closed, the kill switch on, and nothing stops it early.</summary>
[Collection(StackCollection.Name)]
public sealed class CloseAllTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task CloseAll_TwoPositionsOneProtected_AllFlatOrdersGoneKillSwitchOnAndNewOpensRefused()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000", takeProfit: "110000"));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        var request = new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test close-all", Actor = "tester" };

        var answer = await stack.Execution.CloseAllPositionsAsync(request);

        Assert.True(answer.KillSwitchActive);
        Assert.Equal(["BTCUSDT", "ETHUSDT"], answer.Results.Select(r => r.Symbol));
        Assert.All(answer.Results, r => Assert.Equal((true, string.Empty), (r.Closed, r.Error)));
        var venue = stack.Venue();
        Assert.All(await venue.GetPositionsAsync(), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Empty(await venue.GetOpenConditionalOrdersAsync());
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
        // (The switch goes on first, so Execution's own KillSwitchTriggered consumer flattens too, and finds nothing left.)
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'emergency_close_all' AND reason = 'test close-all: 2 symbol(s) flattened, 0 failed; kill switch on'"));
        Assert.True((await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        var refused = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        Assert.Contains(refused.Denials, d => d.Code == RiskReasonCode.KillSwitchActive);

        // A retry with the key replays the answer and sends nothing.
        var requests = await stack.OrderRequestsAsync();
        Assert.True((await stack.Execution.CloseAllPositionsAsync(request)).Replayed);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
    }

    /// <summary>
    /// An open that passed Risk just before the close-all, its order still on the way to the venue when close-all lists
    /// the positions: close-all waits it out once the switch is on, lists again, and closes that position too. Before, it
    /// answered with the position still open (left to the KillSwitchTriggered consumer's sweep, which could miss it too).
    /// </summary>
    [Fact]
    public async Task CloseAll_AnOpenInFlightWhenItLists_ThatPositionClosedToo()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        var orders = await stack.Paper.RequestCountAsync("POST /fapi/v1/order");
        // The open's two order requests (its look-up, then its order) are held 2 s each on the way in.
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", count: 2, latencyMs: 2_000);
        var inFlight = stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2")).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("POST /fapi/v1/order") > orders, TimeSpan.FromSeconds(20),
            "the open's order, past Risk");

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test" });

        Assert.True(answer.KillSwitchActive);
        Assert.Equal(["BTCUSDT", "ETHUSDT"], answer.Results.Select(r => r.Symbol));
        Assert.All(answer.Results, r => Assert.Equal((true, string.Empty), (r.Closed, r.Error)));
        Assert.All(await stack.Venue().GetPositionsAsync(), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal("0.2", (await inFlight).Quantity);
    }

    /// <summary>
    /// As above, but the symbol of the open in flight also has an order resting when close-all lists the venue: listed for
    /// its orders only, it was cancelled and answered "closed", and never looked at again, so the position the open then
    /// filled stayed open under an answer saying every symbol was flattened. Now it is listed again and closed under the
    /// key's own id.
    /// </summary>
    [Fact]
    public async Task CloseAll_AnOpenInFlightOnASymbolListedForItsOrdersOnly_ThatPositionClosedUnderTheKey()
    {
        // No events: the KillSwitchTriggered consumer's own sweep, which could close that position first, stays out of it.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, ledgerOverrides: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:RelayEnabled"] = "false",
        });
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        await stack.Venue().PlaceOrderAsync(
            new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Limit, 0.02m, Price: 2000m, TimeInForce: TimeInForce.Gtc), "operator-eth-entry");
        var orders = await stack.Paper.RequestCountAsync("POST /fapi/v1/order");
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", count: 2, latencyMs: 2_000);
        var inFlight = stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2")).ResponseAsync;
        await ExecutionStack.WaitUntilAsync(async () => await stack.Paper.RequestCountAsync("POST /fapi/v1/order") > orders, TimeSpan.FromSeconds(20),
            "the open's order, past Risk");
        var key = Orders.NewId("ca");

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = key, Reason = "test" });

        Assert.True(answer.KillSwitchActive);
        Assert.Equal(["BTCUSDT", "ETHUSDT"], answer.Results.Select(r => r.Symbol));
        Assert.All(answer.Results, r => Assert.Equal((true, string.Empty), (r.Closed, r.Error)));
        Assert.NotEmpty(answer.Results[1].RealizedPnl);
        Assert.All(await stack.Venue().GetPositionsAsync(), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal("0.2", (await inFlight).Quantity);
        Assert.Equal("FILLED", Assert.Single(await stack.Paper.OrdersAsync(Mapping.ExecutionWire.Derived(key, "ETHUSDT"))).Status);
    }

    /// <summary>
    /// An open in flight reopens a symbol right after close-all's first pass closed it (it passed Risk before the kill
    /// switch went on, and waited for the symbol's lock; here the reopening order is placed by hand as soon as the close
    /// has filled): the final sweep closes it too, under an id of its own. Before, the sweep looked only at symbols the
    /// first listing had no position on, and the answer said the symbol was flattened while it was open.
    /// </summary>
    [Fact]
    public async Task CloseAll_ASymbolReopenedRightAfterItsClose_ClosedAgainByTheSweep()
    {
        var key = Orders.NewId("ca");
        var btcClose = Mapping.ExecutionWire.Derived(key, "BTCUSDT");
        BinanceClient? byHand = null;
        async Task<OrderPlacement> ReopenedAfterAsync(Task<OrderPlacement> closing)
        {
            var closed = await closing;
            await byHand!.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.01m), "reopened-meanwhile");
            return closed;
        }

        // No events: the KillSwitchTriggered consumer's own sweep stays out of it.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit,
            ledgerOverrides: new Dictionary<string, string?> { ["Ledger:Outbox:RelayEnabled"] = "false" },
            executionServices: s => VenueProxy.Install(s, real => VenueProxy.Wrap(real, (method, args, call) =>
                method.Name == nameof(IBinanceClient.PlaceOrderAsync) && Equals(args![1], btcClose) ? ReopenedAfterAsync((Task<OrderPlacement>)call()!) : call())));
        byHand = stack.Venue();
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = key, Reason = "test" });

        Assert.True(answer.KillSwitchActive);
        Assert.Equal("FILLED", Assert.Single(await stack.Paper.OrdersAsync("reopened-meanwhile")).Status);
        Assert.Equal((true, string.Empty), (Assert.Single(answer.Results).Closed, answer.Results[0].Error));
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
    }

    /// <summary>
    /// Keys as long as close-all accepts (128): the kill switch's key and the risk event's, made of the key and a prefix or
    /// suffix, fit Risk's and the Ledger's 128. Before, Risk refused "close-all:" + a key over 118 characters on every
    /// attempt (the positions closed, the switch stayed off, the call failed UNAVAILABLE however often it was retried), and
    /// the Ledger refused the risk event's key past about 115, which was lost.
    /// </summary>
    [Theory]
    [InlineData(116)]
    [InlineData(128)]
    public async Task CloseAll_KeyOfTheLongestLengths_KillSwitchOnAndRiskEventLogged(int length)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        var key = Orders.NewId("ca").PadRight(length, 'k');

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = key, Reason = "long key" });

        Assert.True(answer.KillSwitchActive);
        Assert.True((await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal((true, string.Empty), (Assert.Single(answer.Results).Closed, answer.Results[0].Error));
        var writes = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerWrites>();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued writes");
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE 'long key: 1 symbol(s) flattened%'"));
    }

    /// <summary>
    /// A key Risk and the Ledger would refuse once close-all had passed it on (an invisible format character, whitespace
    /// at an end): refused before anything is closed. Before, the positions were closed, and Risk then refused the kill
    /// switch's key on every attempt.
    /// </summary>
    [Theory]
    [InlineData("ca\u200Bkey")]
    [InlineData("ca-key ")]
    public async Task CloseAll_KeyRiskWouldRefuse_InvalidArgumentNothingClosed(string escaped)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        var requests = await stack.OrderRequestsAsync();

        await Orders.InvalidArgument("idempotency_key", () => stack.Execution.CloseAllPositionsAsync(
            new CloseAllPositionsRequest { IdempotencyKey = System.Text.RegularExpressions.Regex.Unescape(escaped), Reason = "test" }).ResponseAsync);

        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(0.01m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.False((await stack.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// A close-all with the longest reason it accepts (1,000 characters): the positions are closed and recorded, the
    /// reason cut to the Ledger's 256. Before, the Ledger refused every close write for its reason after the venue had
    /// closed the positions, and the records stayed open until reconciliation booked them as the venue's own closes.
    /// </summary>
    [Fact]
    public async Task CloseAll_ReasonLongerThanTheLedgersColumn_ClosedAndRecordedWithTheReasonCut()
    {
        // No events: the KillSwitchTriggered consumer's own sweep (under its own reason) stays out of it. With them, it
        // could close a position first once the switch went on, and that record carried the event's reason.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, ledgerOverrides: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:RelayEnabled"] = "false",
        });
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        var reason = "operator: " + string.Concat(Enumerable.Repeat("the desk is flattening everything; ", 30))[..990];

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = reason });

        Assert.All(answer.Results, r => Assert.Equal((true, ""), (r.Closed, r.Error)));
        // A close the Ledger did not take within the inline budget (a loaded machine) is queued and lands after the answer.
        var writes = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerWrites>();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued recording");
        Assert.Equal(2, await stack.CountAsync("positions WHERE status = 'closed' AND char_length(exit_reason) = 256 AND exit_reason LIKE 'operator: the desk%…'"));
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));
    }

    /// <summary>
    /// The venue refuses the cancel of one symbol's protective orders: its position is closed all the same (before, the
    /// failed cancel skipped the close and left the position open), and its result names the orders left.
    /// </summary>
    [Fact]
    public async Task CloseAll_OneSymbolsOrdersCannotBeCancelled_ItsPositionIsStillClosedAndTheErrorSaysSo()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        // Enough for both sweepers: the kill switch goes on first, and Execution's own KillSwitchTriggered consumer
        // flattens beside this call (each cancel is refused twice: the request and its re-sync retry).
        await stack.Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v1/algoOpenOrders", 6);

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test" });

        var btc = Assert.Single(answer.Results);
        Assert.True(btc.Closed);
        Assert.Contains("its open orders could not be cancelled", btc.Error, StringComparison.Ordinal);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'BTCUSDT'"));
        Assert.True(answer.KillSwitchActive);
    }

    /// <summary>
    /// The book is empty, so the close's market orders expire unfilled: the position is still open, and its stop-loss still
    /// guards it. Before, close-all cancelled the symbol's orders before the close, and the position stood without its
    /// stop-loss until the next reconciliation.
    /// </summary>
    [Fact]
    public async Task CloseAll_ThePositionsCloseDoesNotFill_ItsStopLossStays()
    {
        // No events: the KillSwitchTriggered consumer's own sweep stays out of it.
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, ledgerOverrides: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:RelayEnabled"] = "false",
        });
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01", stopLoss: "95000"));
        await stack.Paper.SetDepthAsync("BTCUSDT", 0m);

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test" });

        var btc = Assert.Single(answer.Results);
        Assert.False(btc.Closed);
        Assert.NotEmpty(btc.Error);
        Assert.Equal(0.01m, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Equal(95000m, Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT")).TriggerPrice);
    }

    /// <summary>
    /// Risk does not answer: the positions are closed, but the answer is UNAVAILABLE naming the kill switch (not a
    /// cached success with the switch off), and a retry with the key closes nothing twice.
    /// </summary>
    [Fact]
    public async Task CloseAll_RiskUnreachable_PositionsClosedAndTheAnswerIsUnavailableNamingTheKillSwitch()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: new Dictionary<string, string?>
        {
            ["services:risk:http:0"] = $"http://127.0.0.1:{FreePort.Next()}",
        });
        await stack.Venue().PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 0.2m), "by-hand-1");
        await stack.ReconcileAsync(); // adopted
        var request = new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test" };

        var failed = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.CloseAllPositionsAsync(request).ResponseAsync);

        Assert.StartsWith("kill_switch: Risk did not turn the kill switch on; 1 of 1 symbol(s) flattened", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0m, Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT")).PositionAmt);
        var requests = await stack.OrderRequestsAsync();
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.CloseAllPositionsAsync(request).ResponseAsync);
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
    }

    /// <summary>
    /// The venue's open orders cannot be listed: a symbol holding only a resting entry order is not seen. The answer says
    /// so (listing_errors, and the risk event), where before it answered every symbol flattened; once the venue lists
    /// again, a close-all under a new key cancels the order.
    /// </summary>
    [Fact]
    public async Task CloseAll_OpenOrdersCannotBeListed_TheAnswerSaysSo_AndALaterOneCancelsTheOrder()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.2"));
        var venue = stack.Venue();
        // An entry order resting below the market on a symbol with no position: under the kill switch it must not fill.
        var entry = await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Limit, 0.002m, 90_000m, TimeInForce.Gtc), Orders.NewId("entry"));
        await stack.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/openOrders", count: 1_000);

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test close-all" });

        Assert.True(answer.KillSwitchActive);
        Assert.Equal(["ETHUSDT"], answer.Results.Select(r => r.Symbol));
        Assert.Contains("open orders could not be listed", Assert.Single(answer.ListingErrors), StringComparison.Ordinal);
        Assert.Equal("NEW", Assert.Single(await stack.Paper.OrdersAsync(entry.Order.ClientOrderId)).Status);
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE event_type = 'emergency_close_all' AND reason LIKE 'test close-all: 1 symbol(s) flattened, 0 failed; kill switch on; 1 venue listing(s) failed%'"));

        await stack.Paper.ClearFaultsAsync();
        var again = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test close-all" });

        Assert.Empty(again.ListingErrors);
        Assert.Equal(("BTCUSDT", true, ""), (Assert.Single(again.Results).Symbol, again.Results[0].Closed, again.Results[0].Error));
        Assert.Equal("CANCELED", Assert.Single(await stack.Paper.OrdersAsync(entry.Order.ClientOrderId)).Status);
    }
}
