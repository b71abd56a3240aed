using Grpc.Core;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// What the write path and relay optimisations must keep: a one-round-trip write still commits all or nothing, a
/// commit still wakes the relay after a burst (in process, and by NOTIFY from an instance that does not lead), and
/// batches are marked sent once each.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class OutboxRelayTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(30);

    // Long enough that only a wake-up, never the idle safety net, can explain a prompt delivery.
    private static readonly Dictionary<string, string?> NoIdlePolling = new() { ["Ledger:Outbox:IdleWait"] = "00:10:00" };

    [Fact]
    public async Task RecordTrade_OutboxInsertFails_KeyAndTradeRolledBackKeyReusable()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        // The outbox insert is the batch's last statement: its failure must undo the key and trade inserted before it.
        await ledger.ExecuteAsync("""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END; $$;
            CREATE TRIGGER test_refuse BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_refuse();
            """);
        var request = Trade();

        await Assert.ThrowsAsync<RpcException>(() => ledger.Client.RecordTradeAsync(request).ResponseAsync);

        Assert.Equal(0, await ledger.CountAsync("trades"));
        Assert.Equal(0, await ledger.CountAsync("idempotency_keys"));
        Assert.Equal(0, await ledger.CountAsync("outbox"));

        await ledger.ExecuteAsync("DROP TRIGGER test_refuse ON outbox");
        var response = await ledger.Client.RecordTradeAsync(request);
        Assert.False(response.Replayed);
        Assert.Equal(1, await ledger.CountAsync("trades"));
        Assert.Equal(1, await ledger.CountAsync("outbox"));
    }

    /// <summary>
    /// Rows this release cannot publish (a message type a newer Ledger wrote during a rolling upgrade), more than a batch
    /// of them at the head of the outbox: their aggregate is parked and the others are delivered (before, every fetch
    /// returned only those rows, and nothing else was ever published). The parked rows stay, unsent, with their error.
    /// </summary>
    [Fact]
    public async Task Relay_MoreThanABatchOfUnpublishableRowsAtTheHead_OtherAggregatesStillDelivered()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, settings: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:BatchSize"] = "5",
            ["Ledger:Outbox:IdleWait"] = "00:00:00.500",
        });
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);
        await ledger.ExecuteAsync(
            "INSERT INTO outbox (event_id, aggregate_id, message_type, payload) " +
            "SELECT gen_random_uuid(), 'from-a-newer-release', 'PositionSplit', '{}'::jsonb FROM generate_series(1, 6)");

        await ledger.Client.RecordTradeAsync(Trade());

        await consumer.Recorder.WaitForAsync(r => r.Count == 1, Arrival);
        Assert.Equal(6, await ledger.CountAsync("outbox WHERE aggregate_id = 'from-a-newer-release' AND sent_at IS NULL"));
        Assert.Equal(1, await ledger.CountAsync(
            "outbox WHERE aggregate_id = 'from-a-newer-release' AND last_error LIKE '%PositionSplit) cannot be published by this release%'"));
    }

    [Fact]
    public async Task Relay_BurstThenIdleThenOneWrite_NotifyWakesRelayEachTime()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, settings: NoIdlePolling);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);

        // A burst: many commits notify while the relay is busy; their wake-ups coalesce.
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => ledger.Client.RecordTradeAsync(Trade()).ResponseAsync));
        await consumer.Recorder.WaitForAsync(r => r.Count == 200, Arrival);

        // Idle, then single writes: each must still wake the relay (the idle wait is ten minutes).
        for (var i = 1; i <= 3; i++)
        {
            await Task.Delay(300);
            await ledger.Client.RecordTradeAsync(Trade());
            await consumer.Recorder.WaitForAsync(r => r.Count == 200 + i, TimeSpan.FromSeconds(10));
        }

        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Relay_TrickleOfWrites_WokenRelayLingersAndCarriesThemInOneBatch()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, settings: new Dictionary<string, string?>
        {
            // A linger of 5 s: five writes one after another take well under it even on a loaded machine (at 0.5 s, a
            // fresh-clone run under a load average of 18 once took longer, and the relay read them in two batches; at
            // 2 s, a run under load once again). The test takes two lingers (the read, then the mark).
            ["Ledger:Outbox:IdleWait"] = "00:10:00", ["Ledger:Outbox:Linger"] = "00:00:05",
        });
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);

        // Five writes one after another, well inside the linger: the first wakes the relay, which waits for the rest.
        for (var i = 0; i < 5; i++)
        {
            await ledger.Client.RecordTradeAsync(Trade());
        }

        await consumer.Recorder.WaitForAsync(r => r.Count == 5, Arrival);
        // One read and one mark for all five (the mark follows the next linger): one UPDATE stamps them with one sent_at.
        await TradeEngine.Testing.Poll.UntilAsync(() => ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), n => n == 5);
        Assert.Equal(1L, await ledger.ScalarAsync<long>("SELECT count(DISTINCT sent_at) FROM outbox"));
    }

    /// <summary>
    /// A stop right after a publish: the published row is marked sent before the relay returns, so the next start does
    /// not publish it again. Before, the linger after a small batch (here 5 s) ended in the stop's cancellation before
    /// the mark: every graceful stop under traffic left up to a batch published and unmarked.
    /// </summary>
    [Fact]
    public async Task Relay_StoppedDuringTheLingerAfterAPublish_TheRowIsMarkedSentBeforeItStops()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, settings: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:IdleWait"] = "00:10:00", ["Ledger:Outbox:Linger"] = "00:00:05",
        }))
        {
            await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);
            await ledger.Client.RecordTradeAsync(Trade());
            // Published after the first linger; the mark waits for the second, and the stop comes inside it.
            await consumer.Recorder.WaitForAsync(r => r.Count == 1, Arrival);
            Assert.Equal(1, await ledger.CountAsync("outbox WHERE sent_at IS NULL"));
        }

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FILTER (WHERE sent_at IS NULL), min(attempts) FROM outbox", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((0L, 1), (reader.GetInt64(0), reader.GetInt32(1)));
    }

    [Fact]
    public async Task Relay_WritesThroughAnInstanceThatDoesNotLead_NotifyWakesTheLeader()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var leader = await LedgerHost.StartAsync(postgres, rabbit, database, settings: NoIdlePolling);
        await using var writer = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, writer.Client);
        var deadline = DateTime.UtcNow + Arrival;
        while (!leader.Services.GetRequiredService<OutboxNotifier>().LocalRelayLeads)
        {
            Assert.True(DateTime.UtcNow < deadline, "The first instance's relay never took the lead.");
            await Task.Delay(20);
        }

        Assert.False(writer.Services.GetRequiredService<OutboxNotifier>().LocalRelayLeads);

        // The writer's commits cannot set the leader's in-memory signal: its NOTIFYs, sent after each commit and
        // coalesced over a burst, must wake the leader (the idle wait is ten minutes).
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => writer.Client.RecordTradeAsync(Trade()).ResponseAsync));
        await consumer.Recorder.WaitForAsync(r => r.Count == 100, Arrival);
        for (var i = 1; i <= 3; i++)
        {
            await Task.Delay(300);
            await writer.Client.RecordTradeAsync(Trade());
            await consumer.Recorder.WaitForAsync(r => r.Count == 100 + i, TimeSpan.FromSeconds(10));
        }

        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Relay_GenericPlansCachedWhileTheOutboxWasSmall_StillMarksThroughThePrimaryKey()
    {
        // A sequential-scan plan cached while the outbox was small would be kept as it grows (see GenericPlans).
        var database = await GenericPlans.DatabaseAsync(postgres);

        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, settings: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:BacklogRefresh"] = "00:10:00",
        });
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, ledger.Client);
        var expected = 0;
        for (; expected < 12; expected++)
        {
            await ledger.Client.RecordTradeAsync(Trade());
            await consumer.Recorder.WaitForAsync(r => r.Count == expected + 1, Arrival);
        }

        // Then the table holds a long history of sent rows.
        await ledger.ExecuteAsync(
            "INSERT INTO outbox (event_id, aggregate_id, message_type, payload, sent_at) " +
            "SELECT gen_random_uuid(), 'history', 'TradeRecorded', '{}'::jsonb, now() FROM generate_series(1, 50000)");
        var before = await GenericPlans.OutboxPrimaryKeyScansAsync(ledger);

        for (var i = 0; i < 12; i++)
        {
            await ledger.Client.RecordTradeAsync(Trade());
            expected++;
            await consumer.Recorder.WaitForAsync(r => r.Count == expected, Arrival);
        }

        // Each mark found its rows through outbox_pkey rather than by reading all 50,000 (PostgreSQL publishes a
        // backend's statistics within about ten seconds of its work).
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (await GenericPlans.OutboxPrimaryKeyScansAsync(ledger) - before < 12)
        {
            Assert.True(DateTime.UtcNow < deadline, "The relay marked rows without the primary key (a cached sequential scan).");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task Relay_BacklogOfSeveralBatches_EachRowPublishedOnceAndMarkedOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var writer = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false))
        {
            for (var i = 0; i < 120; i++)
            {
                await writer.Client.RecordTradeAsync(Trade());
            }
        }

        await using var consumerLedger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, consumerLedger.Client);
        // Batches of 50: the relay marks one batch and fetches the next in one round trip, three times over.
        await using var relay = await LedgerHost.StartAsync(postgres, rabbit, database, settings: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:BatchSize"] = "50",
        });

        await consumer.Recorder.WaitForAsync(r => r.Count == 120, Arrival);
        var deadline = DateTime.UtcNow + Arrival;
        while (await relay.CountAsync("outbox WHERE sent_at IS NULL") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Rows were published but not marked sent.");
            await Task.Delay(50);
        }

        Assert.Equal(120, await relay.CountAsync("outbox WHERE sent_at IS NOT NULL AND attempts = 1"));
        Assert.Equal(120, consumer.Recorder.Of<TradeRecorded>().Count());
        Assert.All(consumer.Recorder.ActedOn.Values, n => Assert.Equal(1, n));
    }
}
