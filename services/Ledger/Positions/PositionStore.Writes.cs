using Grpc.Core;
using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Positions;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using static TradeEngine.Ledger.Positions.PositionCommands;

namespace TradeEngine.Ledger.Positions;

// PositionStore's row writes: the insert of an open and an add, a reduce of part and a close, with their events.
public sealed partial class PositionStore
{
    private static async Task<PositionRecord> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, OpenCommand c, Func<PositionRecord, NpgsqlBatchCommand> store,
        CancellationToken ct)
    {
        await using var insert = Sql.Command(
            "INSERT INTO positions (position_id, account, venue, symbol, side, quantity, entry_price, leverage, margin_type, status, " +
            "fees, strategy, stop_loss_price, take_profit_price, opened_at) " +
            $"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12, $13, $14) RETURNING {PositionRow.Columns}",
            connection, transaction, NewId.NextGuid(), c.Account, c.Venue, c.Symbol, PositionRow.SideText(c.Side), c.Quantity,
            c.EntryPrice, c.Leverage, c.MarginType, c.Fee, Sql.Text(c.Strategy), Sql.Numeric(c.StopLoss), Sql.Numeric(c.TakeProfit), c.OpenedAt);
        var row = (await ReadOneAsync(insert, ct).ConfigureAwait(false))!;
        var record = row.ToProto();
        await JournalAsync(connection, transaction, row, "open", c.Quantity, c.EntryPrice, 0m, c.Fee, null, c.OpenedAt,
            Opened(row, c), ct, FillTrades(row, c.Fills, closing: false).Append(store(record))).ConfigureAwait(false);
        return record;
    }

    private static async Task<PositionRecord> AddAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PositionRow existing, OpenCommand c,
        Func<PositionRecord, NpgsqlBatchCommand> store, CancellationToken ct)
    {
        if (existing.Side != c.Side)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"An open {PositionRow.SideText(existing.Side)} position {existing.PositionId} exists on {c.Venue} {c.Symbol}; " +
                "close it before opening the other side."));
        }

        // An add keeps the position's margin type (Binance refuses to change it under a position, -4048) and takes the
        // leverage it was made at: Binance applies a symbol's leverage to its whole position, so the record follows the
        // venue. Before, an add at another leverage or margin type was booked and the record kept its first figures.
        if (!string.Equals(existing.MarginType, c.MarginType, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"margin_type: the open position {existing.PositionId} on {c.Venue} {c.Symbol} is {existing.MarginType} margin; an add keeps its margin type"));
        }

        // Each add is bounded, their sum is not: the position's quantity and its notional at entry are totals, held to
        // the column and to MaxNotional (so every later close, itself one fill, stays within the bound too).
        var quantity = existing.Quantity + c.Quantity;
        if (!FitsColumn(quantity) || (existing.Quantity * existing.EntryPrice) + (c.Quantity * c.EntryPrice) > MaxNotional)
        {
            throw TotalOutOfRange("quantity");
        }

        var entry = Round(PositionMath.AverageEntryAfterAdd(existing.Quantity, existing.EntryPrice, c.Quantity, c.EntryPrice));
        await using var update = Sql.Command(
            "UPDATE positions SET quantity = $2, entry_price = $3, fees = fees + $4, " +
            "stop_loss_price = COALESCE($5::numeric, stop_loss_price), take_profit_price = COALESCE($6::numeric, take_profit_price), " +
            $"leverage = $7, updated_at = now() WHERE position_id = $1 RETURNING {PositionRow.Columns}",
            connection, transaction, existing.PositionId, quantity, entry, c.Fee, Sql.Numeric(c.StopLoss), Sql.Numeric(c.TakeProfit), c.Leverage);
        var row = (await ReadOneAsync(update, ct).ConfigureAwait(false))!;
        var record = row.ToProto();
        await JournalAsync(connection, transaction, row, "add", c.Quantity, c.EntryPrice, 0m, c.Fee, null, c.OpenedAt,
            Opened(row, c), ct, FillTrades(row, c.Fills, closing: false).Append(store(record))).ConfigureAwait(false);
        return record;
    }

    private static async Task<PositionRecord> ReducePartAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PositionRow row, ReduceCommand c, CancellationToken ct)
    {
        var pnl = Round(PositionMath.RealizedPnl(row.Side, c.Quantity, row.EntryPrice, c.ExitPrice, 0m));
        var (exit, closedQuantity) = AverageExit(row, c.Quantity, c.ExitPrice);
        await using var update = Sql.Command(
            "UPDATE positions SET quantity = quantity - $2, exit_price = $3, closed_quantity = $4, realized_pnl = realized_pnl + $5, " +
            $"fees = fees + $6, updated_at = now() WHERE position_id = $1 RETURNING {PositionRow.Columns}",
            connection, transaction, row.PositionId, c.Quantity, exit, closedQuantity, pnl, c.Fee);
        var after = (await ReadOneAsync(update, ct).ConfigureAwait(false))!;
        var reduced = new PositionReduced(NewId.NextGuid(), c.At, after.PositionId, after.Venue, after.Symbol, after.EventSide,
            c.Quantity, after.Quantity, c.ExitPrice, pnl, c.Fee, c.Reason);
        await JournalAsync(connection, transaction, after, "reduce", c.Quantity, c.ExitPrice, pnl, c.Fee, c.Reason, c.At, (reduced.EventId, reduced), ct,
            FillTrades(row, c.Fills, closing: true)).ConfigureAwait(false);
        return after.ToProto();
    }

    private static async Task<PositionRecord> CloseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PositionRow row, CloseCommand c, CancellationToken ct)
    {
        if (c.Fills.Count > 0 && c.Fills.Sum(f => f.Quantity) != row.Quantity)
        {
            throw new RequestValidationException("fills", $"quantities must add up to the open quantity {Format(row.Quantity)}");
        }

        var pnl = Round(PositionMath.RealizedPnl(row.Side, row.Quantity, row.EntryPrice, c.ExitPrice, 0m));
        var (exit, closedQuantity) = AverageExit(row, row.Quantity, c.ExitPrice);
        await using var update = Sql.Command(
            "UPDATE positions SET exit_price = $2, closed_quantity = $3, realized_pnl = realized_pnl + $4, fees = fees + $5, " +
            $"status = $6, closed_at = $7, exit_reason = $8, updated_at = now() WHERE position_id = $1 RETURNING {PositionRow.Columns}",
            connection, transaction, row.PositionId, exit, closedQuantity, pnl, c.Fee,
            c.Liquidated ? PositionRow.Liquidated : PositionRow.Closed, c.At, Sql.Text(c.Reason));
        var after = (await ReadOneAsync(update, ct).ConfigureAwait(false))!;
        var closed = new PositionClosed(NewId.NextGuid(), c.At, after.PositionId, after.Venue, after.Symbol, after.EventSide,
            row.Quantity, after.EntryPrice, exit, after.RealizedPnl, after.Fees, after.Funding, c.Reason, c.Liquidated);
        await JournalAsync(connection, transaction, after, c.Liquidated ? "liquidate" : "close", row.Quantity, c.ExitPrice, pnl, c.Fee,
            c.Reason, c.At, (closed.EventId, closed), ct, FillTrades(row, c.Fills, closing: true), c.AtField).ConfigureAwait(false);
        return after.ToProto();
    }

    private static (decimal Exit, decimal ClosedQuantity) AverageExit(PositionRow row, decimal quantity, decimal price)
    {
        var closed = row.ClosedQuantity + quantity;
        var exit = row.ExitPrice is { } previous ? Round(((previous * row.ClosedQuantity) + (price * quantity)) / closed) : price;
        return (exit, closed);
    }

    private static (Guid, PositionOpened) Opened(PositionRow row, OpenCommand c)
    {
        var eventId = NewId.NextGuid();
        return (eventId, new PositionOpened(eventId, c.OpenedAt, row.PositionId, row.Venue, row.Symbol, row.EventSide, row.Quantity, row.EntryPrice,
            row.Leverage, row.MarginType, c.Fee, row.Strategy));
    }
}
