using System.Globalization;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Execution.Tests.Support.UpdateStream;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// The Ledger's open record follows the leverage the venue applies to the position: after a SetLeverage (once per call's
/// key, and after a Ledger outage too), and after a change made at the venue directly, which reconciliation finds. Each
/// amend is streamed to StreamPositionUpdates as the position's CHANGED update.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class LeverageTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task SetLeverage_SymbolWithAnOpenRecord_RecordAmendedToTheVenuesLeverage_SymbolWithoutOneNothingWritten()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));

        var set = await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 });
        var flat = await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "ETHUSDT", Leverage = 2 });

        Assert.Equal((4, 2), (set.Leverage, flat.Leverage));
        Assert.Equal(4, await RecordedLeverageAsync(stack, opened.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "outbox WHERE message_type = 'PositionAmended' AND payload->>'PositionId' = $1 AND (payload->>'Leverage')::int = 4", opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition'"));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// A retry is answered by Execution's own memory: one amend. After a restart the retry goes to the venue again; when
    /// the record meanwhile holds another leverage (set back here by hand, as a later SetLeverage or an operator would),
    /// its amend writes what the venue now applies under its own key. Keyed by the call's key and record alone, that
    /// amend was a replay of the first answer at the Ledger and the record stayed wrong until reconciliation.
    /// </summary>
    [Fact]
    public async Task SetLeverage_RetriedAndRetriedAfterARestart_AmendedOnceThenToWhatTheVenueApplies()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        var request = new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 };
        await stack.Execution.SetLeverageAsync(request);
        await stack.Execution.SetLeverageAsync(request);
        Assert.Equal(4, await RecordedLeverageAsync(stack, opened.PositionId));
        Assert.Equal(1, await stack.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition' AND key LIKE $1",
            "set-leverage:" + request.IdempotencyKey + ":%:" + opened.PositionId));
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        Assert.Equal(1, await stack.ExecuteAsync("UPDATE positions SET leverage = 3 WHERE position_id = $1::uuid", opened.PositionId));

        var retried = await stack.Execution.SetLeverageAsync(request);

        Assert.Equal(4, retried.Leverage);
        Assert.Equal(4, await RecordedLeverageAsync(stack, opened.PositionId));
        Assert.Equal(2, await stack.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition' AND key LIKE $1",
            "set-leverage:" + request.IdempotencyKey + ":%:" + opened.PositionId));
        Assert.Equal(2, await stack.CountAsync("outbox WHERE message_type = 'PositionAmended' AND payload->>'PositionId' = $1", opened.PositionId));
    }

    [Fact]
    public async Task SetLeverage_LedgerDown_AnsweredAndTheRecordAmendedOnceTheLedgerIsBack()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        await stack.StopLedgerAsync();

        var set = await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 });

        Assert.Equal(4, set.Leverage);
        await stack.StartLedgerAsync();
        await ExecutionStack.WaitUntilAsync(async () => await RecordedLeverageAsync(stack, opened.PositionId) == 4, TimeSpan.FromSeconds(30),
            "the queued amend to land");
        Assert.Equal(1, await stack.CountAsync("outbox WHERE message_type = 'PositionAmended' AND payload->>'PositionId' = $1", opened.PositionId));
    }

    [Fact]
    public async Task Reconcile_LeverageChangedAtTheVenueDirectly_RiskEventLoggedAndRecordAmended()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        // An operator changes it at the venue, not through Execution.
        await stack.Venue().ChangeLeverageAsync("BTCUSDT", 4);

        Assert.Equal(1, await stack.ReconcileAsync());

        Assert.Equal(4, await RecordedLeverageAsync(stack, opened.PositionId));
        Assert.Equal(1, await stack.CountAsync(
            "risk_events WHERE event_type = 'reconciliation_mismatch' AND symbol = 'BTCUSDT' AND reason LIKE '%venue applies 4x%holds 3x%'"));
        Assert.Equal(1, await stack.CountAsync("outbox WHERE message_type = 'PositionAmended' AND payload->>'PositionId' = $1", opened.PositionId));
        Assert.Equal(0, await stack.ReconcileAsync());
    }

    /// <summary>
    /// Before, a leverage change streamed nothing: a subscriber held the old leverage until the position's next change. The
    /// update carries no liquidation price rather than the one computed before the change.
    /// </summary>
    [Fact]
    public async Task SetLeverage_OpenPosition_StreamedAsChangedWithTheNewLeverage()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = await SubscribeAsync(stack, cts.Token);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, cts.Token)).Kind);

        await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 });

        var update = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Changed, "BTCUSDT", opened.PositionId, 0.01m, 4, string.Empty),
            (update.Kind, update.Position.Symbol, update.Position.PositionId, decimal.Parse(update.Position.Quantity, CultureInfo.InvariantCulture),
                update.Position.Leverage, update.Position.LiquidationPrice));
        Assert.NotEmpty(update.Position.MarkPrice);
    }

    /// <summary>
    /// A symbol with no position streams nothing: the next update after its SetLeverage is the one of the open position's
    /// SetLeverage made after it.
    /// </summary>
    [Fact]
    public async Task SetLeverage_FlatSymbol_NothingStreamed()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = await SubscribeAsync(stack, cts.Token);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, cts.Token)).Kind);

        await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "ETHUSDT", Leverage = 2 });
        await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 });

        var next = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Changed, "BTCUSDT", 4), (next.Kind, next.Position.Symbol, next.Position.Leverage));
    }

    [Fact]
    public async Task Reconcile_LeverageChangedAtTheVenueDirectly_StreamedAsChangedWithTheVenuesLeverage()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var opened = await stack.Execution.OpenPositionAsync(Orders.Open(leverage: 3));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = await SubscribeAsync(stack, cts.Token);
        Assert.Equal(PositionUpdateKind.Snapshot, (await NextAsync(call, cts.Token)).Kind);
        await stack.Venue().ChangeLeverageAsync("BTCUSDT", 4);

        Assert.Equal(1, await stack.ReconcileAsync());

        var update = await NextAsync(call, cts.Token);
        Assert.Equal((PositionUpdateKind.Changed, "BTCUSDT", opened.PositionId, 4, string.Empty),
            (update.Kind, update.Position.Symbol, update.Position.PositionId, update.Position.Leverage, update.Position.LiquidationPrice));
    }

    private static async Task<int> RecordedLeverageAsync(ExecutionStack stack, string positionId) =>
        (await stack.Ledger.GetPositionAsync(new TradeEngine.Ledger.V1.GetPositionRequest { PositionId = positionId })).Leverage;
}
