using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Trades;

/// <summary>Reads of recorded fills.</summary>
public sealed class TradeQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The most trades one answer holds: far more than the fills of any market order of a bounded size.</summary>
    public const int MaxOrderTrades = 1_000;

    /// <summary>
    /// The trades of one client order id on a venue and symbol (every symbol when the request names none), oldest first
    /// (trades_by_client_order_id_venue). Fills of one
    /// instant come in the venue's trade id order: Binance numbers trades per symbol upwards, and a shorter number is a
    /// smaller one. (trade_id, a time-based uuid, does not sort in insertion order in PostgreSQL.)
    /// </summary>
    public async Task<GetOrderTradesResponse> OrderTradesAsync(GetOrderTradesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var venue = Identifier(request.Venue, "venue", 32);
        var symbol = OptionalSymbol(request.Symbol, "symbol");
        var clientOrderId = Identifier(request.ClientOrderId, "client_order_id", 64);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Planned without sequential scans, as the outbox relay's statements are (see PlannedBatch.IndexOnly), and with an
        // index on client order id and venue (V0006): Execution asks this before every order (is the id spent?), and a
        // generic plan cached while the table was new and unanalyzed scanned the venue's every trade on each call.
        // The order's rows are found by client order id alone (the MATERIALIZED CTE), and venue and symbol are checked on
        // those few rows. Asked with "venue = $2" beside it, PostgreSQL could still walk the venue's prefix of
        // (venue, symbol, exchange_trade_id): with statistics taken while the table held a trade or two (autovacuum's first
        // visit to a new database), every column looks unique, "venue = $2" as selective as the client order id, and that
        // smaller index the cheaper way in. A connection that cached that generic plan while the table held a hundred
        // trades kept it until the next ANALYZE, reading every trade of the venue on each call (bench/TradeEngine.ExecutionLoad,
        // 2 runs in 14: in one, 1 call in 8 for the whole run, 1.3 ms a call on average and growing with the table, 70% of
        // PostgreSQL's time). With the client order id as the only condition on the table, no statistics make another index usable.
        // Its generic plan every time (PlannedBatch.GenericIndexOnly): it has one way in. The symbol is typed text even
        // when null: a prepared statement is only reused for the parameter types it was prepared with (see Sql.Text).
        await using var batch = PlannedBatch.GenericIndexOnly(connection, Sql.Batch(
            "WITH o AS MATERIALIZED (" +
            "SELECT trade_id, exchange_trade_id, exchange_order_id, side, price, quantity, fee, realized_pnl, executed_at, position_id, strategy, symbol, venue, fee_asset " +
            "FROM trades WHERE client_order_id = $1) " +
            "SELECT trade_id, exchange_trade_id, exchange_order_id, side, price, quantity, fee, realized_pnl, executed_at, position_id, strategy, symbol, fee_asset " +
            "FROM o WHERE venue = $2 AND ($3::text IS NULL OR symbol = $3) " +
            "ORDER BY executed_at, symbol, length(exchange_trade_id), exchange_trade_id LIMIT $4",
            clientOrderId, venue, Sql.Text(symbol), MaxOrderTrades + 1));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
        var response = new GetOrderTradesResponse();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (response.Trades.Count == MaxOrderTrades)
            {
                response.Truncated = true;
                break;
            }

            response.Trades.Add(new TradeRecord
            {
                TradeId = reader.GetGuid(0).ToString(),
                ClientOrderId = clientOrderId,
                Venue = venue,
                ExchangeTradeId = reader.GetString(1),
                ExchangeOrderId = reader.IsDBNull(2) ? string.Empty : reader.GetString(2),
                Symbol = reader.GetString(11),
                Side = reader.GetString(3) == "buy" ? TradeSide.Buy : TradeSide.Sell,
                Price = Wire.Format(reader.GetDecimal(4)),
                Quantity = Wire.Format(reader.GetDecimal(5)),
                Fee = Wire.Format(reader.GetDecimal(6)),
                RealizedPnl = Wire.Format(reader.GetDecimal(7)),
                ExecutedAt = Wire.Timestamp(reader.GetFieldValue<DateTimeOffset>(8)),
                PositionId = reader.IsDBNull(9) ? string.Empty : reader.GetGuid(9).ToString(),
                Strategy = reader.IsDBNull(10) ? string.Empty : reader.GetString(10),
                FeeAsset = reader.GetString(12),
            });
        }

        return response;
    }
}
