using Grpc.Core;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>The transactional outbox over a real RabbitMQ, to consumers that deduplicate through the Ledger's inbox.</summary>
[Collection(LedgerCollection.Name)]
public sealed class OutboxTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RecordTrade_Committed_PublishedWithMessageIdEqualToEventId()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);

        var response = await ledger.Client.RecordTradeAsync(Trade());

        await consumer.Recorder.WaitForAsync(r => r.Count == 1, Arrival);
        var recorded = Assert.Single(consumer.Recorder.Of<TradeRecorded>());
        Assert.Equal(response.TradeId, recorded.TradeId.ToString());
        Assert.Equal(12345678901.12345678m, recorded.Price);
        Assert.Equal(0.00000001m, recorded.Quantity);
        Assert.Equal(recorded.EventId, consumer.Recorder.MessageIdOf(recorded.EventId));
        await WaitUntilAsync(async () => await ledger.CountAsync("outbox WHERE sent_at IS NULL") == 0);
    }

    /// <summary>
    /// RiskEventLogged carries the risk event's correlation id (a margin alert's event id), and none when it was logged
    /// without one. Before, the event had no such field: a consumer could not tell which alert an episode record was about.
    /// </summary>
    [Fact]
    public async Task LogRiskEvent_WithAndWithoutCorrelationId_RiskEventLoggedCarriesIt()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);
        var correlation = Guid.NewGuid();

        var correlated = await ledger.Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "margin_reduce", Severity = RiskEventSeverity.Warning, Reason = "r",
            CorrelationId = correlation.ToString(),
        });
        var uncorrelated = await ledger.Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "daily_loss_limit", Severity = RiskEventSeverity.Critical, Reason = "r",
        });

        await consumer.Recorder.WaitForAsync(r => r.Count == 2, Arrival);
        var logged = consumer.Recorder.Of<RiskEventLogged>().ToDictionary(e => e.RiskEventId.ToString());
        Assert.Equal(correlation, logged[correlated.RiskEventId].CorrelationId);
        Assert.Null(logged[uncorrelated.RiskEventId].CorrelationId);
    }

    [Fact]
    public async Task PositionEvents_OneAggregate_ArriveInWrittenOrder()
    {
        // Every event is written before the relay runs, so it finds them all waiting in one batch and publishes two
        // aggregates side by side: only its per-aggregate ordering, not the pace of the writes, can keep the order.
        var database = await postgres.CreateDatabaseAsync();
        var writer = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        var a = await writer.Client.OpenPositionAsync(Open("AUSDT", quantity: "10"));
        var b = await writer.Client.OpenPositionAsync(Open("BUSDT", quantity: "10"));
        for (var i = 1; i <= 8; i++)
        {
            await writer.Client.ReducePositionAsync(Reduce(a.PositionId, "1", i));
            var add = Open("AUSDT", quantity: "1");
            add.OpenedAt = At(T0.AddMinutes(i)); // changes are dated in order: never before the position's last one
            await writer.Client.OpenPositionAsync(add);
            await writer.Client.ReducePositionAsync(Reduce(b.PositionId, "1", i));
        }

        await writer.Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = a.PositionId, ExitPrice = "102", ClosedAt = At(T0.AddMinutes(10)),
        });
        var writtenA = await writer.ScalarAsync<Guid[]>(
            "SELECT array_agg(event_id ORDER BY outbox_id) FROM outbox WHERE aggregate_id = $1", a.PositionId);
        var writtenB = await writer.ScalarAsync<Guid[]>(
            "SELECT array_agg(event_id ORDER BY outbox_id) FROM outbox WHERE aggregate_id = $1", b.PositionId);
        await writer.DisposeAsync();
        Assert.Equal(18, writtenA.Length);
        Assert.Equal(9, writtenB.Length);

        await using var inboxLedger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, inboxLedger.Client, positionEventsInOneQueue: true);
        await using var relay = await LedgerHost.StartAsync(postgres, rabbit, database);
        await consumer.Recorder.WaitForAsync(r => r.Count == writtenA.Length + writtenB.Length, Arrival);

        foreach (var written in new[] { writtenA, writtenB })
        {
            var arrivals = written.Select(id => consumer.Recorder.ArrivalOf(id)!.Value).ToList();
            Assert.Equal(arrivals.Order(), arrivals);
        }

        var closed = Assert.Single(consumer.Recorder.Of<PositionClosed>());
        Assert.Equal(10m, closed.Quantity);
        Assert.Equal(writtenA[^1], closed.EventId);
    }

    [Fact]
    public async Task RecordTrade_OfPositionBeingChanged_WaitsForPositionLock()
    {
        // A funding posting (an UPDATE of the row: a no-key-update lock) is in flight on the position. A trade of that
        // position must wait for it, or its TradeRecorded could be published before the FundingPaid written first.
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        var opened = await ledger.Client.OpenPositionAsync(Open());
        await using var connection = new Npgsql.NpgsqlConnection(ledger.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand(
            "SELECT 1 FROM positions WHERE position_id = $1 FOR NO KEY UPDATE", connection, transaction)
            { Parameters = { new() { Value = Guid.Parse(opened.PositionId) } } })
        {
            await hold.ExecuteNonQueryAsync();
        }

        var trade = Trade();
        trade.PositionId = opened.PositionId;
        var call = ledger.Client.RecordTradeAsync(trade).ResponseAsync;
        var finishedWhileHeld = await Task.WhenAny(call, Task.Delay(700)) == call;
        await transaction.CommitAsync();
        await call;

        Assert.False(finishedWhileHeld, "The trade was written while another writer held the position.");
        Assert.Equal(1, await ledger.CountAsync("trades WHERE position_id = $1", Guid.Parse(opened.PositionId)));
    }

    private static ReducePositionRequest Reduce(string positionId, string quantity, int minute) => new()
    {
        IdempotencyKey = Key(), PositionId = positionId, Quantity = quantity, ExitPrice = "101", ReducedAt = At(T0.AddMinutes(minute)),
    };

    [Fact]
    public async Task Outbox_LedgerDiesBetweenCommitAndPublish_PublishedExactlyOnceAfterRestart()
    {
        var database = await postgres.CreateDatabaseAsync();

        // The first Ledger commits its rows and events but dies before its relay publishes any of them.
        var crashed = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        var opened = await crashed.Client.OpenPositionAsync(Open());
        await crashed.Client.ClosePositionAsync(new ClosePositionRequest { IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "99" });
        await crashed.Client.RecordTradeAsync(Trade());
        await crashed.Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "margin_reduce", Severity = RiskEventSeverity.Warning, Reason = "r",
        });
        await crashed.Client.SetKillSwitchAsync(new SetKillSwitchRequest { IdempotencyKey = Key(), Active = true, Trigger = "operator", Actor = "t" });
        Assert.Equal(5, await crashed.CountAsync("outbox WHERE sent_at IS NULL"));
        await crashed.DisposeAsync();

        // A consumer elsewhere, whose inbox is kept by a Ledger instance that does not relay.
        await using var inboxLedger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, inboxLedger.Client);

        // The restarted Ledger's relay publishes what the dead one left.
        await using var restarted = await LedgerHost.StartAsync(postgres, rabbit, database);
        await consumer.Recorder.WaitForAsync(r => r.Count == 5, Arrival);
        await WaitUntilAsync(async () => await restarted.CountAsync("outbox WHERE sent_at IS NULL") == 0);

        // Now a crash after the publish but before the rows were marked: every event goes out a second time.
        await restarted.ExecuteAsync("UPDATE outbox SET sent_at = NULL");
        await WaitUntilAsync(async () => await restarted.CountAsync("outbox WHERE sent_at IS NOT NULL AND attempts = 2") == 5);
        await Task.Delay(1000);

        Assert.Equal(5, consumer.Recorder.ActedOn.Count);
        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
        Assert.Equal(5, await restarted.CountAsync("inbox"));
    }

    [Fact]
    public async Task Outbox_LedgerProcessKilledWhileWritingAndPublishing_EveryCommittedEventActedOnOnceAfterRestart()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var inboxLedger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, inboxLedger.Client);

        // A Ledger in its own process writes and relays under load, and is SIGKILLed in the middle of it: some writes
        // committed and published, some committed and not published (or published and not marked), some never answered.
        // Its relay lingers a second before every read, so the kill surely leaves committed rows it never published.
        var child = await ServiceProcess.StartAsync("TradeEngine.Ledger.dll", new Dictionary<string, string?>
        {
            ["ConnectionStrings__ledgerdb"] = database,
            ["ConnectionStrings__eventbus"] = rabbit.ConnectionString,
            ["Ledger__Outbox__Linger"] = "00:00:01",
            ["Ledger__Outbox__LingerBelowRows"] = "1000000",
        });
        var childClient = new LedgerService.LedgerServiceClient(child.Channel);
        var answered = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    answered.Add((await childClient.RecordTradeAsync(Trade())).TradeId);
                }
                catch (RpcException)
                {
                    return; // the process is gone
                }
            }
        })).ToList();
        await WaitUntilAsync(() => Task.FromResult(answered.Count >= 150));
        await child.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        await child.DisposeAsync();
        // Before, nothing showed the kill had left anything to recover: a relay that had caught up passed the test on the
        // path without recovery.
        await using (var connection = new Npgsql.NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var unsent = new Npgsql.NpgsqlCommand("SELECT count(*) FROM outbox WHERE sent_at IS NULL", connection);
            Assert.True((long)(await unsent.ExecuteScalarAsync())! > 0, "the kill left no committed event unpublished");
        }

        // The restarted Ledger's relay publishes whatever the dead one left; the consumer's inbox drops repeats.
        await using var restarted = await LedgerHost.StartAsync(postgres, rabbit, database);
        await WaitUntilAsync(async () => await restarted.CountAsync("outbox WHERE sent_at IS NULL") == 0);
        var committed = await restarted.CountAsync("outbox");
        await consumer.Recorder.WaitForAsync(r => r.Count == committed, Arrival);
        await Task.Delay(1000);

        Assert.True(committed >= answered.Count, $"{committed} events for {answered.Count} answered writes");
        Assert.Equal(committed, consumer.Recorder.ActedOn.Count);
        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
        var delivered = consumer.Recorder.Of<TradeRecorded>().Select(t => t.TradeId.ToString()).ToHashSet();
        Assert.All(answered, id => Assert.Contains(id, delivered));
    }

    [Fact]
    public async Task Outbox_RabbitMqDownTenSecondsWhileWriting_EveryEventArrivesOnce()
    {
        await using var broker = new RabbitMqServer();
        await broker.StartAsync();
        await using var ledger = await LedgerHost.StartAsync(postgres, broker);
        await using var consumer = await EventConsumerHost.StartAsync(broker.ConnectionString, ledger.Client);
        var metrics = ledger.Services.GetRequiredService<OutboxMetrics>();

        var tradeIds = new List<string>();
        var maxBacklog = 0L;
        async Task WriteForAsync(TimeSpan duration)
        {
            var until = DateTime.UtcNow + duration;
            while (DateTime.UtcNow < until)
            {
                tradeIds.Add((await ledger.Client.RecordTradeAsync(Trade())).TradeId);
                maxBacklog = Math.Max(maxBacklog, metrics.Backlog);
                await Task.Delay(50);
            }
        }

        await WriteForAsync(TimeSpan.FromSeconds(1));
        await broker.StopAsync();
        await WriteForAsync(TimeSpan.FromSeconds(10));
        await broker.StartAsync();
        await WriteForAsync(TimeSpan.FromSeconds(1));

        await consumer.Recorder.WaitForAsync(r => r.Count == tradeIds.Count, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(async () => await ledger.CountAsync("outbox WHERE sent_at IS NULL") == 0);
        await Task.Delay(1000);
        Assert.Equal(tradeIds.Order(), consumer.Recorder.Of<TradeRecorded>().Select(t => t.TradeId.ToString()).Order());
        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
        Assert.True(maxBacklog > 0, "The backlog metric never showed the events waiting for the broker.");
    }

    [Fact]
    public async Task OutboxMetrics_RelayOff_ExportsBacklogAndOldestAge()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        for (var i = 0; i < 3; i++)
        {
            await ledger.Client.RecordTradeAsync(Trade());
        }

        var measured = new Dictionary<string, double>();
        using var listener = new MeterListener();
        var factory = ledger.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == OutboxMetrics.MeterName && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => { lock (measured) { measured[i.Name] = v; } });
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => { lock (measured) { measured[i.Name] = v; } });
        listener.Start();

        await WaitUntilAsync(() =>
        {
            listener.RecordObservableInstruments();
            lock (measured)
            {
                return Task.FromResult(measured.GetValueOrDefault("tradeengine.ledger.outbox.backlog") == 3
                                       && measured.GetValueOrDefault("tradeengine.ledger.outbox.oldest_age") > 0);
            }
        });
        Assert.StartsWith("TradeEngine.", OutboxMetrics.MeterName, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s.");
            await Task.Delay(50);
        }
    }
}
