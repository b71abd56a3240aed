using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>The position reads that callers make over and over find their rows through an index made for them.</summary>
[Collection(LedgerCollection.Name)]
public sealed class PositionQueryPlanTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private const int LongClosed = 20_000;

    /// <summary>
    /// GetPositions with closed_since (Execution's reconciliation, Funding's accrual pass) wants the few positions closed
    /// lately. Without positions_by_closed_at, and with a generic plan that cannot use it, each call read every position
    /// ever closed to find them.
    /// </summary>
    [Fact]
    public async Task GetPositions_ClosedSinceOverLongHistory_ReadsThroughClosedAtIndexNotTheHistory()
    {
        // A generic plan from the first run (see GenericPlans): "$6 IS NULL OR closed_at >= $6" in one would read it all.
        var database = await GenericPlans.DatabaseAsync(postgres);
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        foreach (var symbol in new[] { "AUSDT", "BUSDT", "CUSDT" })
        {
            var opened = await ledger.Client.OpenPositionAsync(Open(symbol));
            await ledger.Client.ClosePositionAsync(Close(opened.PositionId));
        }

        // A long history: positions opened and closed a year and more before, analyzed as autovacuum would have.
        await InsertClosedHistoryAsync(ledger, "OLDUSDT");
        await ledger.ExecuteAsync("ANALYZE positions");
        var scansBefore = await GenericPlans.IndexScansAsync(ledger, "positions_by_closed_at");
        var readBefore = await GenericPlans.RowsReadAsync(ledger, "positions");

        const int Calls = 12;
        for (var i = 0; i < Calls; i++)
        {
            var page = await ledger.Client.GetPositionsAsync(new GetPositionsRequest
            {
                Venue = "binance", ClosedSince = At(T0), Page = new Common.V1.PageRequest { PageSize = 1000 },
            });
            Assert.Equal(["CUSDT", "BUSDT", "AUSDT"], page.Positions.Select(p => p.Symbol).Order(StringComparer.Ordinal).Reverse());
            Assert.Empty(page.NextPageToken);
        }

        // Each call went through positions_by_closed_at (PostgreSQL publishes a backend's statistics within about ten
        // seconds of its work) and read a handful of rows, not the 20,000 of the history.
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (await GenericPlans.IndexScansAsync(ledger, "positions_by_closed_at") - scansBefore < Calls)
        {
            Assert.True(DateTime.UtcNow < deadline, "GetPositions with closed_since did not read through positions_by_closed_at.");
            await Task.Delay(250);
        }

        var read = await GenericPlans.RowsReadAsync(ledger, "positions") - readBefore;
        Assert.True(read < LongClosed, $"{Calls} calls read {read} position rows; the history alone holds {LongClosed}.");
    }

    /// <summary>
    /// GetPosition by its open key (Execution asks it before every close) wants the market's open position. A connection
    /// that cached its plan while the table was analyzed at a row or two kept a sequential scan (cheapest for a page), and
    /// read every position on each call as the table grew.
    /// </summary>
    [Fact]
    public async Task GetPosition_OpenKeyPlanCachedOnATinyTable_ReadsTheOpenPositionNotTheHistory()
    {
        var database = await GenericPlans.DatabaseAsync(postgres);
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        // Nothing may analyze the table meanwhile: an ANALYZE replans every statement that reads it.
        await ledger.ExecuteAsync("ALTER TABLE positions SET (autovacuum_enabled = false)");
        var opened = await ledger.Client.OpenPositionAsync(Open("AUSDT"));
        await ledger.ExecuteAsync("ANALYZE positions");
        for (var i = 0; i < 6; i++)
        {
            await AskOpenAsync(ledger, opened.PositionId);
        }

        await InsertClosedHistoryAsync(ledger, "AUSDT");
        // The six warm-up asks (two calls each) published before the window opens.
        var scansBefore = await GenericPlans.WaitForIndexScansAsync(ledger, "positions_open_by_market", 6 * 2, "the warm-up");
        var readBefore = await GenericPlans.RowsReadAsync(ledger, "positions");

        const int Calls = 12;
        for (var i = 0; i < Calls; i++)
        {
            await AskOpenAsync(ledger, opened.PositionId);
        }

        await GenericPlans.WaitForIndexScansAsync(ledger, "positions_open_by_market", scansBefore + Calls * 2,
            "GetPosition by its open key through positions_open_by_market");

        var read = await GenericPlans.RowsReadAsync(ledger, "positions") - readBefore;
        Assert.True(read < LongClosed, $"{Calls * 2} calls read {read} position rows; the history alone holds {LongClosed}.");
    }

    /// <summary><see cref="LongClosed"/> positions of <paramref name="symbol"/> opened and closed a year and more before.</summary>
    private static Task InsertClosedHistoryAsync(LedgerHost ledger, string symbol) =>
        ledger.ExecuteAsync(
            "INSERT INTO positions (position_id, account, venue, symbol, side, quantity, entry_price, exit_price, closed_quantity, " +
            "leverage, margin_type, status, opened_at, closed_at) " +
            "SELECT gen_random_uuid(), 'main', 'binance', $3, 'long', 1, 100, 100, 1, 5, 'isolated', 'closed', " +
            "$1 + i * interval '1 minute', $1 + i * interval '1 minute' + interval '30 seconds' FROM generate_series(1, $2) i",
            T0.AddDays(-400).UtcDateTime, LongClosed, symbol);

    /// <summary>The open position of the market, asked with and without its account.</summary>
    private static async Task AskOpenAsync(LedgerHost ledger, string positionId)
    {
        var any = await ledger.Client.GetPositionAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = "binance", Symbol = "AUSDT" } });
        Assert.Equal(positionId, any.PositionId);
        var main = await ledger.Client.GetPositionAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = "binance", Symbol = "AUSDT", Account = "main" } });
        Assert.Equal(positionId, main.PositionId);
    }
}
