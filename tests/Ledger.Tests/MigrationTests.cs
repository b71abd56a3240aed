using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

[Collection(LedgerCollection.Name)]
public sealed class MigrationTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly int MigrationCount = Migration.LoadEmbedded().Count;

    [Fact]
    public async Task Start_FreshDatabase_AppliesEveryMigration()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit);

        Assert.Equal(MigrationCount, ledger.Services.GetRequiredService<MigrationRunner>().Applied.Count);
        Assert.Equal(MigrationCount, await ledger.CountAsync("schema_migrations"));
        Assert.Equal(1, await ledger.CountAsync("pg_indexes WHERE indexname = 'positions_one_open'"));

        // V0010 drops V0001's equity index (unread since V0008's peak-equity index replaced it).
        Assert.Equal(0, await ledger.CountAsync("pg_indexes WHERE indexname = 'pnl_snapshots_by_equity'"));
        Assert.Equal(1, await ledger.CountAsync("pg_indexes WHERE indexname = 'pnl_snapshots_by_equity_less_transfers'"));
        // V0011: the open position of a market, for GetPosition by its open key.
        Assert.Equal(1, await ledger.CountAsync(
            "pg_indexes WHERE indexname = 'positions_open_by_market' AND indexdef LIKE '%(venue, symbol, opened_at) WHERE ((status)::text = ''open''::text)'"));
    }

    [Fact]
    public async Task Start_AlreadyMigratedDatabase_StartsAndAppliesNothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await (await LedgerHost.StartAsync(postgres, rabbit, database)).DisposeAsync();

        await using var again = await LedgerHost.StartAsync(postgres, rabbit, database);

        Assert.Empty(again.Services.GetRequiredService<MigrationRunner>().Applied);
        Assert.Equal(MigrationCount, await again.CountAsync("schema_migrations"));
        Assert.Empty((await again.Client.GetOpenPositionsAsync(new V1.GetOpenPositionsRequest())).Positions);
    }

    [Fact]
    public async Task Start_TwoInstancesTogether_EachMigrationAppliedOnce()
    {
        var database = await postgres.CreateDatabaseAsync();

        var hosts = await Task.WhenAll(
            LedgerHost.StartAsync(postgres, rabbit, database, relay: false),
            LedgerHost.StartAsync(postgres, rabbit, database, relay: false));
        try
        {
            var applied = hosts.SelectMany(h => h.Services.GetRequiredService<MigrationRunner>().Applied).ToList();
            Assert.Equal(MigrationCount, applied.Count);
            Assert.Equal(applied.Distinct().Count(), applied.Count);
            Assert.Equal(MigrationCount, await hosts[0].CountAsync("schema_migrations"));
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Start_ReleasedMigrationEdited_RefusesToStart()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using (var first = await LedgerHost.StartAsync(postgres, rabbit, database))
        {
            await first.ExecuteAsync("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");
        }

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => LedgerHost.StartAsync(postgres, rabbit, database));

        Assert.Contains("changed after it was applied", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TradeRecordedBeforeV0002_RetryAfterUpgradeReplaysIt()
    {
        // A database at V0001 holding a trade recorded under the old key (the client order id).
        var database = await postgres.CreateDatabaseAsync();
        var v1 = Migration.LoadEmbedded().Single(m => m.Version == 1);
        var request = Requests.Trade();
        var tradeId = Guid.NewGuid();
        var response = new V1.RecordTradeResponse { TradeId = tradeId.ToString() };
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using (var schema = new NpgsqlCommand(v1.Sql, connection))
            {
                await schema.ExecuteNonQueryAsync();
            }

            await using var setup = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new("""
                        CREATE TABLE schema_migrations (version integer PRIMARY KEY, name varchar(128) NOT NULL, checksum char(64) NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now())
                        """),
                    new("INSERT INTO schema_migrations (version, name, checksum) VALUES (1, $1, $2)")
                    {
                        Parameters = { new() { Value = v1.Name }, new() { Value = v1.Checksum } },
                    },
                    new("""
                        INSERT INTO trades (trade_id, client_order_id, venue, exchange_trade_id, symbol, side, price, quantity, fee, executed_at)
                        VALUES ($1, $2, $3, $4, 'BTCUSDT', 'buy', 1, 1, 0, now())
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = tradeId }, new() { Value = request.ClientOrderId }, new() { Value = request.Venue },
                            new() { Value = request.ExchangeTradeId },
                        },
                    },
                    new("INSERT INTO idempotency_keys (rpc, key, request_hash, response) VALUES ('RecordTrade', $1, $2, $3)")
                    {
                        Parameters =
                        {
                            new() { Value = request.ClientOrderId }, new() { Value = SHA256.HashData(request.ToByteArray()) },
                            new() { Value = response.ToByteArray() },
                        },
                    },
                },
            };
            await setup.ExecuteNonQueryAsync();
        }

        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        var replay = await ledger.Client.RecordTradeAsync(request);
        var secondFill = Requests.Trade(request.ClientOrderId);
        var second = await ledger.Client.RecordTradeAsync(secondFill);

        Assert.Contains(2, ledger.Services.GetRequiredService<MigrationRunner>().Applied);
        Assert.True(replay.Replayed);
        Assert.Equal(tradeId.ToString(), replay.TradeId);
        Assert.False(second.Replayed);
        Assert.Equal(2, await ledger.CountAsync("trades WHERE client_order_id = $1", request.ClientOrderId));
    }
}
