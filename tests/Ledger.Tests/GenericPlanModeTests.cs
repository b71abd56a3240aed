using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// GetOrderTrades and GetPosition by its open key run on their statements' generic plans from the first prepared run
/// (PlannedBatch.GenericIndexOnly sets plan_cache_mode for the transaction), on a database left at PostgreSQL's default
/// (auto: a prepared statement is planned anew for each of its first five runs, and after while its generic plan looks
/// dearer). The plan tests' databases force generic plans for the whole database, so they would pass without it.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class GenericPlanModeTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task OrderTradesAndOpenPosition_DefaultPlanMode_PreparedRunsUseTheGenericPlanOnly()
    {
        // One pooled connection: every call runs on it, so its prepared statements show every run.
        var database = await postgres.CreateDatabaseAsync();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database + ";Maximum Pool Size=1", relay: false);
        Assert.Equal("auto", await ledger.ScalarAsync<string>("SELECT current_setting('plan_cache_mode')"));

        for (var i = 0; i < 10; i++)
        {
            await ledger.Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "ETHUSDT", ClientOrderId = "the-order" });
            var missing = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
                ledger.Client.GetPositionAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = "binance", Symbol = "ETHUSDT" } }).ResponseAsync);
            Assert.Equal(Grpc.Core.StatusCode.NotFound, missing.StatusCode);
        }

        var dataSource = ledger.Services.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var statement in new[] { "FROM trades WHERE client_order_id = $1", "FROM positions WHERE venue = $1 AND symbol = $2 AND status = 'open'" })
        {
            await using var command = new NpgsqlCommand(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE NOT from_sql AND strpos(statement, $1) > 0", connection)
            {
                Parameters = { new() { Value = statement } },
            };
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), $"no prepared statement reads '{statement}'");
            var (generic, custom) = (reader.GetInt64(0), reader.GetInt64(1));
            Assert.True(generic >= 5 && custom == 0, $"'{statement}': {generic} runs on the generic plan, {custom} planned anew");
        }
    }
}
