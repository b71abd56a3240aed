using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>Crashes and restarts: the venue and the Ledger end in agreement and nothing is done twice.</summary>
[Collection(StackCollection.Name)]
public sealed class RecoveryTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task OpenPosition_ExecutionKilledAfterTheFillAndRestarted_ReconciledAndRetryPlacesNoSecondOrder()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        // The fill happens; the step after it (the fee look-up) hangs, and Execution dies there.
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/userTrades", latencyMs: 10_000);
        var open = Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2);
        var inFlight = stack.Execution.OpenPositionAsync(open).ResponseAsync;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            while ((await stack.Paper.OrdersAsync(open.ClientOrderId)).Count == 0)
            {
                await Task.Delay(20, cts.Token);
            }
        }

        await stack.StopExecutionAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
        Assert.Equal(0, await stack.CountAsync("positions WHERE status = 'open'"));

        await stack.StartExecutionAsync();

        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 1"));
        Assert.Equal(1, await stack.CountAsync("risk_events WHERE event_type = 'reconciliation_mismatch'"));
        var retried = await stack.Execution.OpenPositionAsync(open);
        Assert.True(retried.Replayed);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal("1", (await stack.Execution.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" })).Quantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'ETHUSDT'"));
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 1"));
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
}
