using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

/// <summary>The outbox keeps its sent rows for the retention window, and never deletes an unsent one.</summary>
[Collection(LedgerCollection.Name)]
public sealed class OutboxRetentionTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>$4 outbox rows of aggregate $1, written at $2 and sent at $3 (NULL: never sent).</summary>
    private const string Insert = "INSERT INTO outbox (event_id, aggregate_id, message_type, payload, created_at, sent_at) " +
                                  "SELECT gen_random_uuid(), $1, 'TradeRecorded', '{}'::jsonb, $2, $3 FROM generate_series(1, $4)";

    [Fact]
    public async Task Cleanup_DeletesOnlySentRowsPastRetention_InBatchesThroughThePrimaryKey()
    {
        await using var ledger = await StartLedgerAsync();
        var now = DateTime.UtcNow;
        // Past retention (7 days) and sent: more rows than two batches, with an old row never sent among them.
        await ledger.ExecuteAsync(Insert, "expired", now.AddDays(-9), now.AddDays(-8), 6_000);
        await ledger.ExecuteAsync(Insert, "unsent", now.AddDays(-9), DBNull.Value, 1);
        await ledger.ExecuteAsync(Insert, "expired", now.AddDays(-9), now.AddDays(-8), 6_000);
        // Written long ago but sent within retention (after an outage), and recent rows.
        await ledger.ExecuteAsync(Insert, "sent-lately", now.AddDays(-9), now.AddDays(-1), 1);
        await ledger.ExecuteAsync(Insert, "recent", now, now, 10);
        var monitor = ledger.Services.GetServices<IHostedService>().OfType<OutboxBacklogMonitor>().Single();
        var before = await GenericPlans.OutboxPrimaryKeyScansAsync(ledger);

        var deleted = await monitor.CleanupAsync(CancellationToken.None);

        Assert.Equal(12_000, deleted);
        Assert.Equal(0, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'expired'"));
        Assert.Equal(1, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'unsent' AND sent_at IS NULL"));
        Assert.Equal(1, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'sent-lately'"));
        Assert.Equal(10, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'recent'"));
        Assert.Equal(0, await monitor.CleanupAsync(CancellationToken.None));

        // Each batch found its rows through outbox_pkey (PostgreSQL publishes a backend's statistics within about ten
        // seconds of its work): at least the lowest-ids scan of each of the four batches.
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (await GenericPlans.OutboxPrimaryKeyScansAsync(ledger) - before < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, "The cleanup did not read the outbox through its primary key.");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task Cleanup_StepsOverABatchOfRowsNeverSent_AndDeletesTheExpiredRowsAfterThem()
    {
        await using var ledger = await StartLedgerAsync();
        var now = DateTime.UtcNow;
        // More rows than a batch at the lowest ids that were never sent (an aggregate parked for a message type this
        // release cannot publish, for days), then expired sent rows, then recent ones.
        await ledger.ExecuteAsync(Insert, "parked", now.AddDays(-9), DBNull.Value, OutboxBacklogMonitor.CleanupBatch + 1);
        await ledger.ExecuteAsync(Insert, "expired", now.AddDays(-8), now.AddDays(-8), 100);
        await ledger.ExecuteAsync(Insert, "recent", now, now, 5);
        var monitor = ledger.Services.GetServices<IHostedService>().OfType<OutboxBacklogMonitor>().Single();

        Assert.Equal(100, await monitor.CleanupAsync(CancellationToken.None));
        Assert.Equal(0, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'expired'"));
        Assert.Equal(OutboxBacklogMonitor.CleanupBatch + 1,
            await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'parked' AND sent_at IS NULL"));
        Assert.Equal(5, await ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE aggregate_id = 'recent'"));
        Assert.Equal(0, await monitor.CleanupAsync(CancellationToken.None));
    }

    /// <summary>
    /// A Ledger without its relay on a database whose plans cannot be sequential scans cached while the outbox was small
    /// (see GenericPlans). The monitor's own cleanup runs at start, on the empty outbox; the next would come in ten minutes.
    /// </summary>
    private async Task<LedgerHost> StartLedgerAsync() =>
        await LedgerHost.StartAsync(postgres, rabbit, await GenericPlans.DatabaseAsync(postgres), relay: false, settings: new Dictionary<string, string?>
        {
            ["Ledger:Outbox:BacklogRefresh"] = "00:10:00",
        });
}
