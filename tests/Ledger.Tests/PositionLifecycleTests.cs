using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

[Collection(LedgerCollection.Name)]
public sealed class PositionLifecycleTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task OpenPosition_SameSideAlreadyOpen_AddsAndAveragesEntry()
    {
        var first = await Client.OpenPositionAsync(Open(quantity: "1", price: "100"));
        var added = await Client.OpenPositionAsync(Open(quantity: "3", price: "200"));

        Assert.Equal(first.PositionId, added.PositionId);
        Assert.Equal("4", added.Quantity);
        Assert.Equal("175", added.EntryPrice);
        Assert.Equal("0.2", added.Fees);
        Assert.Equal(1, await _ledger.CountAsync("positions"));
        Assert.Equal(2, await _ledger.CountAsync("outbox WHERE message_type = 'PositionOpened'"));
    }

    /// <summary>
    /// An add takes the leverage it was made at (Binance applies a symbol's leverage to the whole position) and must keep
    /// the margin type. Before, the record kept its first leverage and booked an add of another margin type.
    /// </summary>
    [Fact]
    public async Task OpenPosition_AddAtAnotherLeverage_RecordTakesIt_AddOfAnotherMarginType_FailedPreconditionNothingWritten()
    {
        var first = Open(quantity: "1", price: "100");
        first.Leverage = 3;
        await Client.OpenPositionAsync(first);
        var add = Open(quantity: "1", price: "100");
        add.Leverage = 10;
        var cross = Open(quantity: "1", price: "100");
        cross.MarginType = MarginType.Cross;

        var added = await Client.OpenPositionAsync(add);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.OpenPositionAsync(cross).ResponseAsync);

        Assert.Equal((10, "2"), (added.Leverage, added.Quantity));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.StartsWith("margin_type: ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE quantity = 2 AND leverage = 10"));
        Assert.Equal(2, await _ledger.CountAsync("outbox WHERE message_type = 'PositionOpened'"));
    }

    [Fact]
    public async Task GetPositions_ClosedSince_OnlyPositionsClosedAtOrAfterIt()
    {
        var early = await Client.OpenPositionAsync(Open(symbol: "ETHUSDT"));
        var late = await Client.OpenPositionAsync(Open(symbol: "SOLUSDT"));
        await Client.OpenPositionAsync(Open(symbol: "BTCUSDT")); // still open
        foreach (var (position, minutes) in new[] { (early, 10), (late, 30) })
        {
            await Client.ClosePositionAsync(new ClosePositionRequest
            {
                IdempotencyKey = Key(), PositionId = position.PositionId, ExitPrice = "100", ClosedAt = At(T0.AddMinutes(minutes)),
            });
        }

        var since = await Client.GetPositionsAsync(new GetPositionsRequest { Venue = "binance", ClosedSince = At(T0.AddMinutes(30)) });

        Assert.Equal(late.PositionId, Assert.Single(since.Positions).PositionId);
        Assert.Equal(3, (await Client.GetPositionsAsync(new GetPositionsRequest { Venue = "binance" })).Positions.Count);
        await RpcAssert.InvalidArgument("closed_since", () => Client.GetPositionsAsync(new GetPositionsRequest
        {
            ClosedSince = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1, Nanos = -1 },
        }).ResponseAsync);
    }

    [Fact]
    public async Task OpenPosition_OppositeSideOpen_FailedPreconditionNothingWritten()
    {
        await Client.OpenPositionAsync(Open(side: Side.Long));

        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.OpenPositionAsync(Open(side: Side.Short)).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task OpenPosition_TenConcurrentKeysSameSymbol_OneOpenPositionWithEveryAdd()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Client.OpenPositionAsync(Open()).ResponseAsync));

        Assert.Single(responses.Select(r => r.PositionId).Distinct());
        var position = await Client.GetPositionAsync(new GetPositionRequest { PositionId = responses[0].PositionId });
        Assert.Equal("10", position.Quantity);
        Assert.Equal(1, await _ledger.CountAsync("positions"));
    }

    [Fact]
    public async Task OpenPosition_AfterClose_OpensNewPosition()
    {
        var first = await Client.OpenPositionAsync(Open());
        await Client.ClosePositionAsync(new ClosePositionRequest { IdempotencyKey = Key(), PositionId = first.PositionId, ExitPrice = "90", ClosedAt = At(T0.AddHours(1)) });

        var second = await Client.OpenPositionAsync(Open(side: Side.Short));

        Assert.NotEqual(first.PositionId, second.PositionId);
        Assert.Equal(Side.Short, second.Side);
    }

    [Fact]
    public async Task ReducePosition_Partial_RealizesPnlOfPartAndKeepsEntry()
    {
        var opened = await Client.OpenPositionAsync(Open(side: Side.Short, quantity: "4", price: "100"));

        var reduced = await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1", ExitPrice = "90", Fee = "0.05", ReducedAt = At(T0.AddHours(1)),
        });

        Assert.Equal("3", reduced.Quantity);
        Assert.Equal("100", reduced.EntryPrice);
        Assert.Equal("10", reduced.RealizedPnl);
        Assert.Equal(PositionStatus.Open, reduced.Status);
        Assert.Equal(1, await _ledger.CountAsync("outbox WHERE message_type = 'PositionReduced'"));
    }

    [Fact]
    public async Task ReducePosition_WholeQuantity_ClosesPosition()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "2"));

        var reduced = await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "2", ExitPrice = "101", ReducedAt = At(T0.AddHours(1)),
        });

        Assert.Equal(PositionStatus.Closed, reduced.Status);
        Assert.Equal("2", reduced.RealizedPnl);
        Assert.Equal(1, await _ledger.CountAsync("outbox WHERE message_type = 'PositionClosed'"));
    }

    [Fact]
    public async Task ReducePosition_MoreThanOpen_FailedPreconditionNothingWritten()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "1"));

        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1.5", ExitPrice = "101",
        }).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
    }

    [Fact]
    public async Task ClosePosition_AlreadyClosed_FailedPrecondition()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await Client.ClosePositionAsync(new ClosePositionRequest { IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "90" });

        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.ClosePositionAsync(
            new ClosePositionRequest { IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "95" }).ResponseAsync);

        Assert.Equal(2, await _ledger.CountAsync("position_changes"));
        Assert.Equal(2, await _ledger.CountAsync("outbox"));
    }

    [Fact]
    public async Task ClosePosition_Liquidated_StatusLiquidated()
    {
        var opened = await Client.OpenPositionAsync(Open());

        var closed = await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "80", Liquidated = true, ExitReason = "liquidation",
        });

        Assert.Equal(PositionStatus.Liquidated, closed.Status);
        Assert.Equal("-20", closed.RealizedPnl);
    }

    [Fact]
    public async Task ClosePosition_UnknownPosition_NotFound()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, () => Client.ClosePositionAsync(
            new ClosePositionRequest { IdempotencyKey = Key(), PositionId = Guid.NewGuid().ToString(), ExitPrice = "95" }).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task GetPosition_UnknownPosition_NotFound()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, () => Client.GetPositionAsync(
            new GetPositionRequest { PositionId = Guid.NewGuid().ToString() }).ResponseAsync);
    }

    [Fact]
    public async Task ClosePosition_ExitBeforeEntry_InvalidArgumentNamingClosedAt()
    {
        var opened = await Client.OpenPositionAsync(Open());

        await RpcAssert.InvalidArgument("closed_at", () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "95", ClosedAt = At(T0.AddSeconds(-1)),
        }).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE status = 'open'"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task ReduceAndClose_DatedBeforeTheLastChange_InvalidArgumentAndTheJournalUnchanged()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "1")); // at T0
        var add = Open(quantity: "1");
        add.OpenedAt = At(T0.AddHours(2));
        await Client.OpenPositionAsync(add);

        // 1.5 reduced "at T0 + 1 h", between the open and the add: the size at T0 + 1.5 h would read -0.5.
        await RpcAssert.InvalidArgument("reduced_at", () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1.5", ExitPrice = "100", ReducedAt = At(T0.AddHours(1)),
        }).ResponseAsync);
        // A reduce of the whole quantity closes the position, and still names its own field (it named closed_at).
        await RpcAssert.InvalidArgument("reduced_at", () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "2", ExitPrice = "100", ReducedAt = At(T0.AddHours(1)),
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("closed_at", () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ClosedAt = At(T0.AddHours(1)),
        }).ResponseAsync);
        var lateAdd = Open(quantity: "1");
        lateAdd.OpenedAt = At(T0.AddHours(1));
        await RpcAssert.InvalidArgument("opened_at", () => Client.OpenPositionAsync(lateAdd).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE status = 'open' AND quantity = 2"));
        Assert.Equal(2, await _ledger.CountAsync("position_changes"));
        Assert.Equal(2, await _ledger.CountAsync("outbox"));
        // At the last change's instant, or after it, the same calls go through.
        var reduced = await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1.5", ExitPrice = "100", ReducedAt = At(T0.AddHours(2)),
        });
        Assert.Equal("0.5", reduced.Quantity);
    }

    [Fact]
    public async Task LogFundingEvent_OutsidePositionLife_FailedPreconditionNothingPosted()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ClosedAt = At(T0.AddHours(10)),
        });

        var before = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.LogFundingEventAsync(Funding(opened, T0.AddHours(-8))).ResponseAsync);
        var after = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.LogFundingEventAsync(Funding(opened, T0.AddHours(16))).ResponseAsync);
        // A settlement inside the position's life is still posted after the close (a late posting).
        var within = await Client.LogFundingEventAsync(Funding(opened, T0.AddHours(8)));

        Assert.StartsWith("funding_time:", before.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("funding_time:", after.Status.Detail, StringComparison.Ordinal);
        Assert.False(within.Replayed);
        Assert.Equal(1, await _ledger.CountAsync("funding_events"));
        Assert.Equal("0.01", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);
        Assert.Equal(1, await _ledger.CountAsync("outbox WHERE message_type = 'FundingPaid'"));
    }

    /// <summary>
    /// A settlement at the instant of the open comes before it (GetPositionSizeAt there answers 0): posting it charged
    /// funding on a size the position did not hold. The next instant is the position's.
    /// </summary>
    [Fact]
    public async Task LogFundingEvent_AtOpeningInstant_FailedPreconditionNamingFundingTimeNothingPosted()
    {
        var opened = await Client.OpenPositionAsync(Open());
        var sizeThen = await Client.GetPositionSizeAtAsync(new GetPositionSizeAtRequest { PositionId = opened.PositionId, At = At(T0) });

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.LogFundingEventAsync(Funding(opened, T0)).ResponseAsync);

        Assert.Equal("0", sizeThen.Quantity);
        Assert.StartsWith("funding_time:", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogFundingEvent'"));
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'FundingPaid'"));
        Assert.Equal("0", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);

        var next = await Client.LogFundingEventAsync(Funding(opened, T0.AddTicks(10)));
        Assert.False(next.Replayed);
        Assert.Equal(1, await _ledger.CountAsync("funding_events"));
    }

    /// <summary>
    /// Times are kept to the microsecond PostgreSQL keeps, from the request on: an open at 900 ns past T0 is stored at
    /// T0, and a settlement at 500 ns past it is at the open's instant, refused as one at T0 is. Before, the request's
    /// 500 ns was compared with the stored T0, the settlement posted, and stored at the open's instant.
    /// </summary>
    [Fact]
    public async Task LogFundingEvent_WithinTheOpeningMicrosecond_FailedPreconditionAsAtTheOpeningInstant()
    {
        var open = Open();
        open.OpenedAt = At(T0.AddTicks(9));
        var opened = await Client.OpenPositionAsync(open);

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.LogFundingEventAsync(Funding(opened, T0.AddTicks(5))).ResponseAsync);

        Assert.StartsWith("funding_time:", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(At(T0), opened.OpenedAt);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
    }

    /// <summary>
    /// A settlement's size is the position's at that instant as its journal has it: 2 for a position that held 1, or the
    /// size before a reduce dated before the settlement, is refused naming position_size and the size held, and nothing
    /// is posted; the journal's sizes are. Before, any size of the right sign was booked (twice the settlement charged).
    /// </summary>
    [Fact]
    public async Task LogFundingEvent_SizeOtherThanTheJournalsAtThatInstant_InvalidArgumentNothingPosted()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "0.4", ExitPrice = "100", ReducedAt = At(T0.AddHours(2)),
        });
        var doubled = Funding(opened, T0.AddHours(1));
        (doubled.PositionSize, doubled.Notional, doubled.Payment) = ("2", "200", "0.02");
        var beforeTheReduce = Funding(opened, T0.AddHours(8));

        var refusedDoubled = await RpcAssert.FailsWith(StatusCode.InvalidArgument, () => Client.LogFundingEventAsync(doubled).ResponseAsync);
        var refusedStale = await RpcAssert.FailsWith(StatusCode.InvalidArgument, () => Client.LogFundingEventAsync(beforeTheReduce).ResponseAsync);

        Assert.StartsWith("position_size:", refusedDoubled.Status.Detail, StringComparison.Ordinal);
        Assert.EndsWith(": 1", refusedDoubled.Status.Detail, StringComparison.Ordinal);
        Assert.EndsWith(": 0.6", refusedStale.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'FundingPaid'"));
        Assert.Equal("0", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);

        var atOne = await Client.LogFundingEventAsync(Funding(opened, T0.AddHours(1)));
        var atEight = Funding(opened, T0.AddHours(8));
        (atEight.PositionSize, atEight.Notional, atEight.Payment) = ("0.6", "60", "0.006");
        var afterTheReduce = await Client.LogFundingEventAsync(atEight);

        Assert.False(atOne.Replayed || afterTheReduce.Replayed);
        Assert.Equal(2, await _ledger.CountAsync("funding_events"));
        Assert.Equal("0.016", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);
    }

    private static LogFundingEventRequest Funding(PositionRecord position, DateTimeOffset at) => FundingEvent(position.PositionId, at);
}
