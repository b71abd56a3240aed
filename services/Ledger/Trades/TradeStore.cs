using MassTransit;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.Contracts.Events;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Trades;

/// <summary>
/// Records fills. The client order id is the idempotency key; the exchange trade id is unique per venue. The trade row,
/// its key and its <see cref="TradeRecorded"/> outbox row go to PostgreSQL in one batch and commit together.
/// </summary>
public sealed class TradeStore(IdempotentWriter writer)
{
    public Task<RecordTradeResponse> RecordAsync(RecordTradeRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var clientOrderId = Text(r.ClientOrderId, "client_order_id", 64);
        var venue = Text(r.Venue, "venue", 32);
        var exchangeTradeId = Text(r.ExchangeTradeId, "exchange_trade_id", 64);
        var exchangeOrderId = OptionalText(r.ExchangeOrderId, "exchange_order_id", 64);
        var symbol = Text(r.Symbol, "symbol", 32);
        var side = Wire.Enum(r.Side, "side") == TradeSide.Buy ? "buy" : "sell";
        var price = Positive(r.Price, "price");
        var quantity = Positive(r.Quantity, "quantity");
        var fee = NonNegativeOrZero(r.Fee, "fee");
        var realizedPnl = OptionalMoney(r.RealizedPnl, "realized_pnl") ?? 0m;
        var executedAt = Wire.Instant(r.ExecutedAt, "executed_at");
        var positionId = OptionalId(r.PositionId, "position_id");
        var strategy = OptionalText(r.Strategy, "strategy", 64);

        var tradeId = NewId.NextGuid();
        var eventId = NewId.NextGuid();
        var recorded = new TradeRecorded(eventId, executedAt, tradeId, clientOrderId, venue, exchangeTradeId, symbol, side, price,
            quantity, fee, realizedPnl, executedAt, positionId);
        var call = new IdempotencyContext<RecordTradeResponse>(
            "RecordTrade", clientOrderId, "client_order_id", r, RecordTradeResponse.Parser, x => x.Replayed = true);
        return writer.ExecuteBatchAsync(call, new RecordTradeResponse { TradeId = tradeId.ToString() },
        [
            Sql.Batch(
                "INSERT INTO trades (trade_id, client_order_id, venue, exchange_trade_id, exchange_order_id, symbol, side, price, quantity, " +
                "fee, realized_pnl, executed_at, position_id, strategy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                tradeId, clientOrderId, venue, exchangeTradeId, exchangeOrderId, symbol, side, price, quantity, fee, realizedPnl,
                executedAt, positionId, strategy),
            OutboxWriter.Command(eventId, (positionId ?? tradeId).ToString(), recorded),
        ], cancellationToken);
    }
}
