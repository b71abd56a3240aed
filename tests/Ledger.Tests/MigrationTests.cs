using Microsoft.Extensions.DependencyInjection;
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
}
