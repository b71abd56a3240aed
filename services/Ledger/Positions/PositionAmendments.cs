using Grpc.Core;
using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using static TradeEngine.Ledger.Positions.PositionCommands;

namespace TradeEngine.Ledger.Positions;

/// <summary>
/// Amends an open position's settings without a trade: its leverage, which the venue applies to the whole position and
/// which may change under it (Execution's SetLeverage, or an operator at the venue that reconciliation finds), and the
/// prices of the stop-loss and take-profit guarding it (a resumed open placing them on a record that reconciliation
/// adopted before they were placed, so without them; reconciliation restores only what the record holds). The row and
/// its <see cref="PositionAmended"/> event are written in one transaction under the call's idempotency key, the row
/// locked first (after the key, as every writer of a position's events does: OutboxWriter). The journal
/// (<c>position_changes</c>) is left alone: it holds the size changes that sizes and PnL are summed from, and these
/// changes are none.
/// </summary>
public sealed class PositionAmendments(IdempotentWriter writer, TimeProvider time)
{
    public Task<PositionRecord> AmendAsync(AmendPositionRequest request, CancellationToken cancellationToken)
    {
        var command = Parse(request);
        var call = new IdempotencyContext<PositionRecord>(
            "AmendPosition", command.Key, "idempotency_key", request, PositionRecord.Parser, r => r.Replayed = true);
        return writer.ExecuteAsync(call, async (connection, transaction, ct) =>
        {
            var row = await LockAsync(connection, transaction, command.PositionId, ct).ConfigureAwait(false);
            var leverage = command.Leverage ?? row.Leverage;
            var stopLoss = command.StopLoss ?? row.StopLossPrice;
            var takeProfit = command.TakeProfit ?? row.TakeProfitPrice;
            if (row.Leverage == leverage && row.StopLossPrice == stopLoss && row.TakeProfitPrice == takeProfit)
            {
                // Already so (an add took it, or an earlier amend under another key): nothing to write but the key.
                return row.ToProto();
            }

            await using var update = Sql.Command(
                "UPDATE positions SET leverage = $2, stop_loss_price = $3, take_profit_price = $4, updated_at = now() " +
                $"WHERE position_id = $1 RETURNING {PositionRow.Columns}",
                connection, transaction, row.PositionId, leverage, Sql.Numeric(stopLoss), Sql.Numeric(takeProfit));
            var after = (await ReadOneAsync(update, ct).ConfigureAwait(false))!;
            var amended = new PositionAmended(NewId.NextGuid(), TradeEngine.ServiceDefaults.Grpc.Wire.ToMicrosecond(time.GetUtcNow()), after.PositionId, after.Venue, after.Symbol, after.EventSide,
                row.Leverage, after.Leverage, after.StopLossPrice, after.TakeProfitPrice);
            await OutboxWriter.AddAsync(connection, transaction, amended.EventId, after.PositionId.ToString(), amended, ct).ConfigureAwait(false);
            return after.ToProto();
        }, cancellationToken);
    }

    private static async Task<PositionRow> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid positionId, CancellationToken ct)
    {
        await using var find = Sql.Command(
            $"SELECT {PositionRow.Columns} FROM positions WHERE position_id = $1 FOR UPDATE", connection, transaction, positionId);
        var row = await ReadOneAsync(find, ct).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Position {positionId} does not exist."));
        return row.IsOpen
            ? row
            : throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Position {positionId} is already {row.Status}; only an open position is amended."));
    }

    private static async Task<PositionRow?> ReadOneAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? PositionRow.Read(reader) : null;
    }
}
