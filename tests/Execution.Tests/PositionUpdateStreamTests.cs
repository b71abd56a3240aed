using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing.Servers;
using static TradeEngine.Execution.Tests.Support.UpdateStream;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// StreamPositionUpdates when the Ledger does not take a write at once: each change the venue made is streamed when it
/// was made, with the venue's size, and the queued write landing later streams nothing more.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class PositionUpdateStreamTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly Dictionary<string, string?> ShortInlineBudget = new() { ["Execution:LedgerWriteInlineBudget"] = "00:00:01" };

    /// <summary>
    /// A subscriber that does not read falls behind: once its buffer is full it is ended, ABORTED, after every update it
    /// held, in order and without a gap. Before, its oldest updates were dropped without a sign (a CLOSED among them, and
    /// the caller went on showing a position that no longer stood), and the stream went on.
    /// </summary>
    [Fact]
    public async Task StreamPositionUpdates_SubscriberFallsBehind_EndedAbortedAfterWhatItHeld_NothingSkipped()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await SubscribeAsync(stack, cts.Token);
        var hub = stack.ExecutionHost.Services.GetRequiredService<TradeEngine.Execution.Streaming.PositionUpdateHub>();
        // Large enough that HTTP/2's flow control (the caller reads nothing) holds the server's writes back long before
        // the buffer is through: most of them wait in it.
        var padding = new string('x', 4000);
        const int Published = 4000;

        for (var i = 0; i < Published; i++)
        {
            hub.Publish(new PositionUpdate
            {
                Kind = PositionUpdateKind.Changed,
                Position = new Position { Symbol = "ETHUSDT", Quantity = i.ToString(CultureInfo.InvariantCulture), Strategy = padding },
            });
        }

        Assert.Equal(0, hub.SubscriberCount);
        var received = new List<int>();
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(cts.Token))
            {
                received.Add(int.Parse(call.ResponseStream.Current.Position.Quantity, CultureInfo.InvariantCulture));
            }
        });
        Assert.Equal(StatusCode.Aborted, ended.StatusCode);
        Assert.Contains("fell more than 1024 updates behind", ended.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, received.Count), received);
        Assert.InRange(received.Count, TradeEngine.Execution.Streaming.PositionUpdateHub.BufferSize, Published - 1);
    }

    /// <summary>Before, an open whose write was queued was never streamed.</summary>
    [Fact]
    public async Task OpenPosition_LedgerWriteQueued_StreamedAsOpenedWithTheFillsSize()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: ShortInlineBudget);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await SubscribeAsync(stack, cts.Token);
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);

        var opened = await WhileTheLedgerGoesDownAsync(stack, open.ClientOrderId, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.Contains(opened.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        var update = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Opened, "ETHUSDT", Side.Long, "1", "3000", 2, "test"),
            (update.Kind, update.Position.Symbol, update.Position.Side, update.Position.Quantity, update.Position.EntryPrice,
                update.Position.Leverage, update.Position.Strategy));
        await LandThenExpectOnlyTheNextChangeAsync(stack, call, cts.Token);
    }

    /// <summary>An add whose write was queued: CHANGED, with the position's whole size and the venue's averaged entry.</summary>
    [Fact]
    public async Task OpenPosition_AddWhoseLedgerWriteIsQueued_StreamedAsChangedWithTheVenuesSizeAndEntry()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: ShortInlineBudget);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        await stack.Paper.SetPriceAsync("ETHUSDT", 3100m);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await SubscribeAsync(stack, cts.Token);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, cts.Token)).Kind);
        var add = Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2);

        var added = await WhileTheLedgerGoesDownAsync(stack, add.ClientOrderId, () => stack.Execution.OpenPositionAsync(add).ResponseAsync);

        Assert.Contains(added.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        var venue = Assert.Single(await stack.Venue().GetPositionsAsync("ETHUSDT"), p => p.PositionAmt != 0m);
        var update = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Changed, "ETHUSDT", 1.5m, venue.EntryPrice),
            (update.Kind, update.Position.Symbol, decimal.Parse(update.Position.Quantity, CultureInfo.InvariantCulture),
                decimal.Parse(update.Position.EntryPrice, CultureInfo.InvariantCulture)));
        await LandThenExpectOnlyTheNextChangeAsync(stack, call, cts.Token);
    }

    /// <summary>Before, a reduce whose write was queued past the inline budget was streamed with the size before it.</summary>
    [Fact]
    public async Task ReducePosition_LedgerWriteQueuedPastTheInlineBudget_StreamedWithTheReducedSize()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: ShortInlineBudget);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await SubscribeAsync(stack, cts.Token);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, cts.Token)).Kind);
        var reduce = new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.4" };

        // The Ledger answers the reduce's read and goes down before its write: the write is queued past the budget.
        var reduced = await WhileTheLedgerGoesDownAsync(stack, reduce.ClientOrderId, () => stack.Execution.ReducePositionAsync(reduce).ResponseAsync);

        Assert.Contains(reduced.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        Assert.Equal("0.6", reduced.RemainingQuantity);
        var update = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Reduced, "ETHUSDT", Side.Long, "0.6", "3000", opened.PositionId),
            (update.Kind, update.Position.Symbol, update.Position.Side, update.Position.Quantity, update.Position.EntryPrice, update.Position.PositionId));
        await LandThenExpectOnlyTheNextChangeAsync(stack, call, cts.Token);
    }

    /// <summary>
    /// A reduce made while the Ledger is down waits behind the queue: it is streamed at once, with its size, and not again
    /// when it lands. Before, it was streamed only when it landed, after the changes made since.
    /// </summary>
    [Fact]
    public async Task ReducePosition_LedgerDown_StreamedAtOnceAndNotAgainWhenItLands()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: ShortInlineBudget);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await OpenSubscribeAndStopLedgerAsync(stack, cts.Token);

        var reduced = await stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "ETHUSDT", Quantity = "0.4" });

        Assert.Contains(reduced.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        using (var whileDown = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            whileDown.CancelAfter(TimeSpan.FromSeconds(15));
            var update = await NextAsync(call, whileDown.Token);
            Assert.Equal((PositionUpdateKind.Reduced, "ETHUSDT", "0.6", "3000"),
                (update.Kind, update.Position.Symbol, update.Position.Quantity, update.Position.EntryPrice));
        }

        Assert.True(stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>().Backlog > 0);
        await LandThenExpectOnlyTheNextChangeAsync(stack, call, cts.Token);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.6"));
    }

    /// <summary>
    /// A close and then a new open on the symbol while the Ledger is down, both queued: CLOSED then OPENED, each when the
    /// venue made it. Before, the open was never streamed and the close only when it landed.
    /// </summary>
    [Fact]
    public async Task CloseThenOpen_LedgerWritesQueued_ClosedThenOpenedInTheVenuesOrder()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, executionSettings: ShortInlineBudget);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var call = await OpenSubscribeAndStopLedgerAsync(stack, cts.Token);

        await stack.Execution.ClosePositionAsync(Orders.Close("ETHUSDT"));
        var second = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));

        Assert.Contains(second.Warnings, w => w.StartsWith("ledger:", StringComparison.Ordinal));
        using (var whileDown = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            whileDown.CancelAfter(TimeSpan.FromSeconds(15));
            var closed = await NextAsync(call, whileDown.Token);
            Assert.Equal((PositionUpdateKind.Closed, "ETHUSDT", "1"), (closed.Kind, closed.Position.Symbol, closed.Position.Quantity));
            var reopened = await NextAsync(call, whileDown.Token);
            Assert.Equal((PositionUpdateKind.Opened, "ETHUSDT", "0.5", "3000"),
                (reopened.Kind, reopened.Position.Symbol, reopened.Position.Quantity, reopened.Position.EntryPrice));
        }

        await LandThenExpectOnlyTheNextChangeAsync(stack, call, cts.Token);
    }

    /// <summary>An ETHUSDT long of 1 at 2x, a subscriber past its snapshot, then the Ledger stopped: where the queued-write tests start.</summary>
    private static async Task<AsyncServerStreamingCall<PositionUpdate>> OpenSubscribeAndStopLedgerAsync(ExecutionStack stack, CancellationToken ct)
    {
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        var call = await SubscribeAsync(stack, ct);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, ct)).Kind);
        await stack.StopLedgerAsync();
        return call;
    }

    /// <summary>
    /// Makes <paramref name="request"/> (keyed <paramref name="clientOrderId"/>) and stops the Ledger once the venue has its
    /// order: the venue's fills are read slowly, so the write after them finds the Ledger down and is queued.
    /// </summary>
    private static async Task<T> WhileTheLedgerGoesDownAsync<T>(ExecutionStack stack, string clientOrderId, Func<Task<T>> request)
    {
        await stack.Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 1_500);
        var inFlight = request();
        await ExecutionStack.WaitUntilAsync(async () => (await stack.Paper.OrdersAsync(clientOrderId)).Count > 0, TimeSpan.FromSeconds(20), "the fill");
        await stack.StopLedgerAsync();
        return await inFlight.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Starts the Ledger again, waits until every queued write has landed, then makes one more change (an open on another
    /// symbol): it is the next update, so the writes that landed streamed nothing (no repeat, no late one).
    /// </summary>
    private static async Task LandThenExpectOnlyTheNextChangeAsync(ExecutionStack stack, AsyncServerStreamingCall<PositionUpdate> call, CancellationToken ct)
    {
        await stack.StartLedgerAsync();
        var writes = stack.ExecutionHost.Services.GetRequiredService<LedgerWrites>();
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(writes.Backlog == 0), TimeSpan.FromSeconds(30), "the queued writes");
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "BTCUSDT", quantity: "0.01"));
        var next = await NextAsync(call, ct);
        Assert.Equal((PositionUpdateKind.Opened, "BTCUSDT"), (next.Kind, next.Position.Symbol));
    }
}
