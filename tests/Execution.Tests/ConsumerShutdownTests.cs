using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>Execution stopped while a consumer is still at work on an event.</summary>
[Collection(StackCollection.Name)]
public sealed class ConsumerShutdownTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// A kill switch's flatten waits for the inbox (the Ledger is down; it would ask again for about 15 minutes) when
    /// Execution is told to stop. The wait is cut after the consumers' stop timeout, Execution stops within the host's
    /// shutdown time, and the event goes back to its queue, not to the error queue: the next Execution flattens.
    /// Before, the stop waited for the consumer past the host's 30 s and the bus stayed connected, holding the event.
    /// </summary>
    [Fact]
    public async Task Stop_KillSwitchFlattenWaitingForTheInbox_StopsInTimeAndTheNextExecutionFlattens()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.5", leverage: 2));
        await stack.StopLedgerAsync();

        var on = new KillSwitchTriggered(NewId.NextGuid(), DateTimeOffset.UtcNow, true, "operator", "operator test", "tester");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(on);
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(stack.Log.Contains($"could not claim event {on.EventId}")),
            TimeSpan.FromSeconds(30), "the flatten to wait for the inbox");

        // The error queue is shared with earlier tests (some send to it on purpose): what this stop adds to it counts.
        var queue = ExecutionStack.EventQueues[1];
        var errorsBefore = (await rabbit.QueueStatesAsync(queue + "_error"))[0]?.Ready ?? 0;
        var stopping = Stopwatch.StartNew();
        await stack.StopExecutionAsync();
        stopping.Stop();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(25), $"Execution took {stopping.Elapsed} to stop.");
        var states = await rabbit.QueueStatesAsync(queue, queue + "_error");
        Assert.True(states[0] == (queue, 1u, 0u), $"The event is not back in its queue alone: {states[0]}; the services' last warnings: {stack.Log}");
        Assert.Equal(errorsBefore, states[1]?.Ready ?? 0);

        await stack.StartLedgerAsync();
        await stack.StartExecutionAsync();
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE status = 'open'") == 0,
            TimeSpan.FromSeconds(30), "the next Execution to flatten");
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'closed' AND symbol = 'ETHUSDT'"));
        Assert.Empty((await stack.Execution.ListPositionsAsync(new ListPositionsRequest())).Positions);
    }
}
