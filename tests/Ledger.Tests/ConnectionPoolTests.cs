using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// Pooled connections go back to the pool without Npgsql's session reset (seven statements ahead of every reuse), so
/// the sessions that do hold state must not go back: the relay's listener ends with its loop, and with it the leader lock.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class ConnectionPoolTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private const string AdvisoryLocksHere =
        "pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

    [Fact]
    public async Task DataSource_ByDefault_NoResetOnClose_AConnectionStringThatSaysOtherwiseIsKept()
    {
        await using (var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false))
        {
            Assert.True(Settings(ledger).NoResetOnClose);
        }

        await using var explicitReset = await LedgerHost.StartAsync(
            postgres, rabbit, connectionString: await postgres.CreateDatabaseAsync() + ";No Reset On Close=false", relay: false);
        Assert.False(Settings(explicitReset).NoResetOnClose);
    }

    [Fact]
    public async Task Relay_Stops_ItsListeningSessionEndsAndTheLeaderLockIsFree()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit);
        var notifier = ledger.Services.GetRequiredService<OutboxNotifier>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!notifier.LocalRelayLeads)
        {
            Assert.True(DateTime.UtcNow < deadline, "The relay never took the lead.");
            await Task.Delay(20);
        }

        Assert.Equal(1, await ledger.CountAsync(AdvisoryLocksHere));
        await ledger.Client.RecordTradeAsync(Requests.Trade());

        var relay = ledger.Services.GetServices<IHostedService>().OfType<OutboxRelay>().Single();
        await relay.StopAsync(CancellationToken.None);

        // Not parked in the pool holding the lock (where no reset would ever release it): another instance can lead now.
        // (PostgreSQL ends a closed session's backend a moment after the socket closes.)
        var released = DateTime.UtcNow.AddSeconds(10);
        while (await ledger.CountAsync(AdvisoryLocksHere) != 0)
        {
            Assert.True(DateTime.UtcNow < released, "The stopped relay's session still holds the leader lock.");
            await Task.Delay(20);
        }

        Assert.False(notifier.LocalRelayLeads);
        // The Ledger's own writes go on over the pool.
        Assert.False((await ledger.Client.RecordTradeAsync(Requests.Trade())).Replayed);
    }

    private static NpgsqlConnectionStringBuilder Settings(LedgerHost ledger) =>
        new(ledger.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
}
