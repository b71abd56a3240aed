using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

/// <summary>GetOrderTrades, which Execution asks before every order, finds an order's trades by its client order id.</summary>
[Collection(LedgerCollection.Name)]
public sealed class TradeQueryPlanTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private const int Grown = 20_000;

    /// <summary>
    /// A new database: autovacuum's first visit analyzes trades while it holds two, and a connection caches its plan for
    /// GetOrderTrades while it holds seventy-five. In those statistics every column looks unique, so "venue = $2" looks as
    /// selective as the client order id, and the smaller (venue, symbol, exchange_trade_id) index was the plan's way in:
    /// kept until the next ANALYZE, it read every trade of the venue on each call as the table grew.
    /// </summary>
    [Fact]
    public async Task GetOrderTrades_PlanCachedOnEarlyStatistics_ReadsTheOrdersTradesNotTheVenues()
    {
        var database = await GenericPlans.DatabaseAsync(postgres);
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        // Nothing may analyze the table meanwhile: an ANALYZE replans every statement that reads it.
        await ledger.ExecuteAsync("ALTER TABLE trades SET (autovacuum_enabled = false)");
        await InsertTradesAsync(ledger, 2);
        await ledger.ExecuteAsync("ANALYZE trades");
        await InsertTradesAsync(ledger, 73);
        await ledger.ExecuteAsync(
            "INSERT INTO trades (trade_id, client_order_id, venue, exchange_trade_id, symbol, side, price, quantity, fee, executed_at) " +
            "VALUES (gen_random_uuid(), 'the-order', 'binance', '17', 'ETHUSDT', 'sell', 2000, 0.5, 0, now())");
        for (var i = 0; i < 6; i++)
        {
            await AskAsync(ledger);
        }

        await InsertTradesAsync(ledger, Grown);
        // The six warm-up asks (three calls each) published before the window opens.
        var scansBefore = await GenericPlans.WaitForIndexScansAsync(ledger, "trades_by_client_order_id_venue", 6 * 3, "the warm-up");
        var readBefore = await GenericPlans.RowsReadAsync(ledger, "trades");

        const int Calls = 12;
        for (var i = 0; i < Calls; i++)
        {
            await AskAsync(ledger);
        }

        // Every call went through trades_by_client_order_id_venue, and together they read a handful of rows, not the
        // 20,000 of the venue.
        await GenericPlans.WaitForIndexScansAsync(ledger, "trades_by_client_order_id_venue", scansBefore + Calls * 3,
            "GetOrderTrades through trades_by_client_order_id_venue");
        var read = await GenericPlans.RowsReadAsync(ledger, "trades") - readBefore;
        Assert.True(read < Grown, $"{Calls * 3} calls read {read} trade rows; the venue alone holds {Grown}.");
    }

    /// <summary>The order's trade, asked by symbol and by any symbol, and an order that has none.</summary>
    private static async Task AskAsync(LedgerHost ledger)
    {
        var bySymbol = await ledger.Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "ETHUSDT", ClientOrderId = "the-order" });
        Assert.Equal(["17"], bySymbol.Trades.Select(t => t.ExchangeTradeId));
        var anySymbol = await ledger.Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", ClientOrderId = "the-order" });
        Assert.Equal([("17", "ETHUSDT")], anySymbol.Trades.Select(t => (t.ExchangeTradeId, t.Symbol)));
        Assert.Empty((await ledger.Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", ClientOrderId = "no-such-order" })).Trades);
    }

    /// <summary>Trades of other orders on the venue, each its own order, as Execution's market orders are.</summary>
    private static Task InsertTradesAsync(LedgerHost ledger, int count) =>
        ledger.ExecuteAsync(
            "INSERT INTO trades (trade_id, client_order_id, venue, exchange_trade_id, exchange_order_id, symbol, side, price, quantity, fee, " +
            "realized_pnl, executed_at, strategy) " +
            "SELECT gen_random_uuid(), md5(random()::text), 'binance', md5(random()::text), '778899', 'BTCUSDT', 'buy', 12345678901.12345678, " +
            "0.00000001, 0.00000001, -12345678901.12345678, now(), 'funding-carry' FROM generate_series(1, $1)",
            count);
}
