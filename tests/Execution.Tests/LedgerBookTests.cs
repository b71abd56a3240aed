using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>Execution's reads of the Ledger's lists, which come in pages, and its risk events.</summary>
[Collection(StackCollection.Name)]
public sealed class LedgerBookTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// The symbols closed lately (the margin-alert consumer's look for an earlier attempt) come from every page: the
    /// Ledger ends a page early when its rows carry long texts, and a symbol on a later page was missed before.
    /// </summary>
    [Fact]
    public async Task SymbolsClosedSince_RecordsOverSeveralPages_EverySymbolFound()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var since = DateTimeOffset.UtcNow.AddHours(-1);
        // 1,000 closed ETHUSDT records with the longest exit reasons and strategies, in three-byte characters (about 1 KB
        // each on the wire: the Ledger's 900 KB budget ends the first page before them all), opened after the one SOLUSDT
        // record, so that one comes last.
        await stack.ExecuteSqlAsync(
            "INSERT INTO positions (position_id, account, venue, symbol, side, quantity, entry_price, exit_price, closed_quantity, " +
            "leverage, margin_type, status, opened_at, closed_at, exit_reason, strategy) " +
            "SELECT gen_random_uuid(), 'default', 'binance', CASE WHEN i = 0 THEN 'SOLUSDT' ELSE 'ETHUSDT' END, 'long', 1, 100, 100, 1, 5, " +
            "'cross', 'closed', $1::timestamptz + i * interval '1 second', $1::timestamptz + interval '30 minutes' + i * interval '1 second', " +
            "repeat('€', 256), repeat('€', 64) FROM generate_series(0, 1000) i",
            since.AddMinutes(1).UtcDateTime);
        var ledger = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerBook>();

        var symbols = await ledger.SymbolsClosedSinceAsync(since, CancellationToken.None);

        Assert.Equal(["ETHUSDT", "SOLUSDT"], symbols);
    }

    /// <summary>
    /// The record a resumed close closed (open when its order filled) is found past the first page: here behind 1,000
    /// later records of the symbol with the longest texts, which the Ledger pages early.
    /// </summary>
    [Fact]
    public async Task ClosedByRecord_BehindAPageOfLaterRecords_TheOneOpenAtTheFillFound()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var fill = DateTimeOffset.UtcNow.AddHours(-1);
        var closed = Guid.NewGuid();
        await stack.ExecuteSqlAsync(
            "INSERT INTO positions (position_id, account, venue, symbol, side, quantity, entry_price, exit_price, closed_quantity, " +
            "leverage, margin_type, status, opened_at, closed_at, exit_reason, strategy) " +
            "SELECT CASE WHEN i = 0 THEN $2 ELSE gen_random_uuid() END, 'default', 'binance', 'ETHUSDT', 'long', 1, 100, 100, 1, 5, 'cross', " +
            "'closed', $1::timestamptz + (CASE WHEN i = 0 THEN -600 ELSE i END) * interval '1 second', " +
            "$1::timestamptz + (CASE WHEN i = 0 THEN 0 ELSE i + 1 END) * interval '1 second', repeat('€', 256), repeat('€', 64) " +
            "FROM generate_series(0, 1000) i",
            fill.UtcDateTime, closed);
        var order = new OrderInfo("ETHUSDT", 1, "c-1", OrderSide.Sell, "MARKET", OrderStatus.Filled, 1m, 1m, 0m, 100m, 100m, 0m,
            ReduceOnly: true, ClosePosition: false, PositionSide: "BOTH", TimeInForce: "GTC", UpdateTime: fill);
        var ledger = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerBook>();

        var record = await ledger.ClosedByRecordAsync("ETHUSDT", order, CancellationToken.None);

        Assert.Equal(closed.ToString(), record?.PositionId);
    }

    /// <summary>
    /// A risk event's reason with line breaks (an exception's or the venue's message may hold them) and past the length
    /// the Ledger takes, with a surrogate pair where the cut falls: logged, the breaks as spaces, cut before the pair.
    /// Before, the Ledger refused the reason (control characters) and the event was lost.
    /// </summary>
    [Fact]
    public async Task LogRiskEvent_ReasonWithLineBreaksAndPastTheLimit_LoggedWithSpacesAndCutWhole()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var ledger = stack.ExecutionHost.Services.GetRequiredService<Ledger.LedgerBook>();
        const string head = "flatten failed:\r\n  BTCUSDT: venue said\tno";
        var pad = new string('x', 998 - head.Length);
        var reason = head + pad + "\U0001F600" + new string('y', 50);
        Assert.True(char.IsHighSurrogate(reason[998]), "the pair straddles the cut");

        await ledger.LogRiskEventAsync("reason-test:" + Orders.NewId("r"), "emergency_close_all", TradeEngine.Ledger.V1.RiskEventSeverity.Critical,
            reason, "BTCUSDT", CancellationToken.None);

        Assert.Equal(1, await stack.CountAsync("risk_events WHERE reason = $1", "flatten failed:    BTCUSDT: venue said no" + pad + "…"));
    }
}
