using TradeEngine.Ledger.Mapping;
using Grpc.Core;
using MassTransit;
using TradeEngine.Ledger.Positions;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Trades;

/// <summary>
/// Records fills. A fill is identified by its venue, symbol and exchange trade id (Binance numbers trades per symbol):
/// that triple is unique and is the idempotency key, so one order (one client order id) may fill in several trades and
/// each is recorded. The trade row, its key and its <see cref="TradeRecorded"/> outbox row go to PostgreSQL in one batch
/// and commit together.
/// </summary>
public sealed class TradeStore(IdempotentWriter writer, RecordedTimes times)
{
    /// <summary>The idempotency namespace of fills (V0004); the key is venue + U+001F + symbol + U+001F + exchange trade id.</summary>
    public const string Rpc = "RecordTrade/symbol-fill";

    // Neither part may hold a control character (Wire refuses them), so the separator keeps keys unambiguous.
    private const char KeySeparator = '\u001F';

    // Events of a position are published in the order the position's row lock orders them (see OutboxWriter): take it
    // first, as every other writer of a position does, before the trade's foreign key takes a weaker lock on the row.
    private const string LockPositionSql = "SELECT symbol, venue, strategy FROM positions WHERE position_id = $1 FOR UPDATE";

    public Task<RecordTradeResponse> RecordAsync(RecordTradeRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var clientOrderId = Identifier(r.ClientOrderId, "client_order_id", 64);
        var venue = Identifier(r.Venue, "venue", 32);
        var exchangeTradeId = Identifier(r.ExchangeTradeId, "exchange_trade_id", 64);
        var exchangeOrderId = OptionalIdentifier(r.ExchangeOrderId, "exchange_order_id", 64);
        var symbol = Symbol(r.Symbol, "symbol");
        var side = Wire.Enum(r.Side, "side") == TradeSide.Buy ? "buy" : "sell";
        var price = Positive(r.Price, "price");
        var quantity = Positive(r.Quantity, "quantity");
        Notional(quantity, price, "quantity");
        var fee = Bounded(NonNegativeOrZero(r.Fee, "fee"), "fee");
        var feeAsset = FeeAsset(r.FeeAsset, "fee_asset");
        var realizedPnl = OptionalMoney(r.RealizedPnl, "realized_pnl") ?? 0m;
        var executedAt = times.Required(r.ExecutedAt, "executed_at");
        var positionId = OptionalId(r.PositionId, "position_id");
        var strategy = OptionalText(r.Strategy, "strategy", 64);

        var tradeId = NewId.NextGuid();
        var eventId = NewId.NextGuid();
        var recorded = new TradeRecorded(eventId, executedAt, tradeId, clientOrderId, venue, exchangeTradeId, symbol, side, price,
            quantity, fee, realizedPnl, executedAt, positionId, feeAsset);
        var call = new IdempotencyContext<RecordTradeResponse>(
            Rpc, venue + KeySeparator + symbol + KeySeparator + exchangeTradeId, "exchange_trade_id", r, RecordTradeResponse.Parser, x => x.Replayed = true);
        var response = new RecordTradeResponse { TradeId = tradeId.ToString() };
        if (positionId is not { } position)
        {
            return writer.ExecuteBatchAsync(call, response, Commands(recorded, exchangeOrderId, strategy), cancellationToken);
        }

        // Two round trips and the commit: the key claim with the position's row lock and market, then the trade, its
        // event and the stored response together. The lock orders this trade's event among the position's (see
        // OutboxWriter), and the trade must be of the position's market.
        return writer.ExecuteAsync(call,
            () => Sql.Batch(LockPositionSql, position),
            ReadMarketAsync,
            async (connection, transaction, market, store, ct) =>
            {
                if (market is not { } m)
                {
                    throw new RpcException(new Status(StatusCode.NotFound, "position_id: no such position."));
                }

                PositionStore.RequireSameMarket(m.Symbol, m.Venue, symbol, venue);
                await using var batch = new NpgsqlBatch(connection, transaction);
                // A position's trade is under the position's strategy, as its fills are (PositionStore), whatever the
                // request names: an add's trade recorded on its own named the add's (or none).
                foreach (var command in Commands(recorded, exchangeOrderId, m.Strategy))
                {
                    batch.BatchCommands.Add(command);
                }

                batch.BatchCommands.Add(store(response));
                await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return response;
            },
            cancellationToken);
    }

    private static async Task<(string Symbol, string Venue, string? Strategy)?> ReadMarketAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        // The key claim before the read yields no result set: the first one is the lock's.
        do
        {
            if (reader.FieldCount > 0)
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false)
                    ? (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2))
                    : null;
            }
        }
        while (await reader.NextResultAsync(ct).ConfigureAwait(false));

        return null;
    }

    /// <summary>
    /// A trade row and its <see cref="TradeRecorded"/> outbox row, from the event (which carries every column but the
    /// exchange order id and the strategy). The aggregate is the trade's position, or the trade itself without one.
    /// Used here and by PositionStore for the fills of an open, reduce or close.
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> Commands(TradeRecorded t, string? exchangeOrderId, string? strategy)
    {
        ArgumentNullException.ThrowIfNull(t);
        yield return Sql.Batch(
            "INSERT INTO trades (trade_id, client_order_id, venue, exchange_trade_id, exchange_order_id, symbol, side, price, quantity, " +
            "fee, realized_pnl, executed_at, position_id, strategy, fee_asset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            t.TradeId, t.ClientOrderId, t.Venue, t.ExchangeTradeId, Sql.Text(exchangeOrderId), t.Symbol, t.Side, t.Price, t.Quantity, t.Fee,
            t.RealizedPnl, t.ExecutedAt, Sql.Uuid(t.PositionId), Sql.Text(strategy), t.FeeAsset);
        yield return OutboxWriter.Command(t.EventId, (t.PositionId ?? t.TradeId).ToString(), t);
    }
}
