using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Positions;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Outbox;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using static TradeEngine.Ledger.Positions.PositionCommands;

namespace TradeEngine.Ledger.Positions;

// PositionStore's journal: a change's position_changes entry, its event in the outbox and the order's fills as trades, in one batch.
public sealed partial class PositionStore
{
    private static async Task JournalAsync<TEvent>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PositionRow row, string kind, decimal quantity, decimal price,
        decimal pnl, decimal fee, string? reason, DateTimeOffset at, (Guid EventId, TEvent Message) outbox, CancellationToken ct,
        IEnumerable<NpgsqlBatchCommand>? more = null, string? atField = null)
        where TEvent : class
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                // A change is never dated before the position's last one: the journal is the position's history (sizes
                // at past instants, funding owed), and a back-dated reduce could make a past size negative. The guard
                // costs no round trip: the entry is simply not written, and the check below refuses the call.
                Sql.Batch(
                    "INSERT INTO position_changes (position_id, kind, quantity, price, realized_pnl, fee, reason, occurred_at) " +
                    "SELECT $1, $2, $3, $4, $5, $6, $7, $8 " +
                    "WHERE NOT EXISTS (SELECT 1 FROM position_changes WHERE position_id = $1 AND occurred_at > $8)",
                    row.PositionId, kind, quantity, price, pnl, fee, Sql.Text(reason), at),
                OutboxWriter.Command(outbox.EventId, row.PositionId.ToString(), outbox.Message),
            },
        };
        foreach (var command in more ?? [])
        {
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        if (batch.BatchCommands[0].RecordsAffected == 0)
        {
            throw new RequestValidationException(
                atField ?? kind switch { "reduce" => "reduced_at", "close" or "liquidate" => "closed_at", _ => "opened_at" },
                "must not be before the position's last change");
        }
    }

    /// <summary>
    /// An order's fills as trades of the position, under the position's strategy (an add naming another, or none, does
    /// not change whose trades they are), each with its TradeRecorded after the position's own event (one
    /// aggregate, so consumers see the change before its trades). They join the journal's batch: no extra round trip.
    /// An opening fill trades on the position's side with no realized PnL; a reducing or closing one on the other side,
    /// realizing (price − entry) × quantity for a long and (entry − price) × quantity for a short, rounded to 8 places
    /// half away from zero like every other PnL here (LedgerWire.Round).
    /// </summary>
    private static IEnumerable<NpgsqlBatchCommand> FillTrades(PositionRow row, IReadOnlyList<FillCommand> fills, bool closing)
    {
        var side = (row.Side == Domain.Side.Long) != closing ? "buy" : "sell";
        foreach (var fill in fills)
        {
            var tradeId = NewId.NextGuid();
            var eventId = NewId.NextGuid();
            var pnl = closing ? Round(PositionMath.RealizedPnl(row.Side, fill.Quantity, row.EntryPrice, fill.Price, 0m)) : 0m;
            var recorded = new TradeRecorded(eventId, fill.ExecutedAt, tradeId, fill.ClientOrderId, row.Venue, fill.ExchangeTradeId,
                row.Symbol, side, fill.Price, fill.Quantity, fill.Fee, pnl, fill.ExecutedAt, row.PositionId, fill.FeeAsset);
            foreach (var command in Trades.TradeStore.Commands(recorded, fill.ExchangeOrderId, row.Strategy))
            {
                yield return command;
            }
        }
    }
}
