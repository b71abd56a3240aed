using TradeEngine.Ledger.Mapping;
using Grpc.Core;
using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Positions;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using static TradeEngine.Ledger.Positions.PositionCommands;

namespace TradeEngine.Ledger.Positions;

/// <summary>
/// Opens, adds to, reduces and closes position records. Each change locks the position row, writes the row, a
/// <c>position_changes</c> journal entry and its event in one transaction, under the call's idempotency key.
/// </summary>
public sealed class PositionStore(IdempotentWriter writer, RecordedTimes times)
{
    /// <summary>
    /// A funding event or a trade that names a position belongs to that position's market: the same symbol and venue,
    /// or it would be counted in one market's history and another position's totals. INVALID_ARGUMENT naming the field.
    /// </summary>
    public static void RequireSameMarket(string positionSymbol, string positionVenue, string symbol, string venue)
    {
        if (!string.Equals(positionSymbol, symbol, StringComparison.Ordinal))
        {
            throw new RequestValidationException("symbol", $"'{symbol}' is not the symbol of the position ({positionSymbol})");
        }

        if (!string.Equals(positionVenue, venue, StringComparison.Ordinal))
        {
            throw new RequestValidationException("venue", $"'{venue}' is not the venue of the position ({positionVenue})");
        }
    }

    private static readonly IReadOnlySet<string> RetryOnOpenRace = new HashSet<string> { "positions_one_open" };

    public Task<PositionRecord> OpenAsync(OpenPositionRequest request, CancellationToken cancellationToken)
    {
        var command = Parse(request, times);
        var call = Context("OpenPosition", command.Key, request) with { RetryOnConstraint = RetryOnOpenRace, TotalsField = "quantity" };
        // Three round trips and the commit: the key claim with the read of the open position, the insert (or update) of the
        // row, and its journal entry, event, fills and stored response together.
        return writer.ExecuteAsync(call,
            () => Sql.Batch(
                $"SELECT {PositionRow.Columns} FROM positions WHERE account = $1 AND venue = $2 AND symbol = $3 AND status = 'open' FOR UPDATE",
                command.Account, command.Venue, command.Symbol),
            ReadFirstAsync,
            async (connection, transaction, existing, store, ct) => existing is null
                ? await InsertAsync(connection, transaction, command, store, ct).ConfigureAwait(false)
                : await AddAsync(connection, transaction, existing, command, store, ct).ConfigureAwait(false),
            cancellationToken);
    }

    public Task<PositionRecord> ReduceAsync(ReducePositionRequest request, CancellationToken cancellationToken)
    {
        var command = Parse(request, times);
        return writer.ExecuteAsync(Context("ReducePosition", command.Key, request) with { TotalsField = "realized_pnl" }, async (connection, transaction, ct) =>
        {
            var row = await LockOpenAsync(connection, transaction, command.PositionId, command.At, "reduced_at", ct).ConfigureAwait(false);
            if (command.Quantity > row.Quantity)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"quantity {Format(command.Quantity)} exceeds the open quantity {Format(row.Quantity)}."));
            }

            return command.Quantity == row.Quantity
                ? await CloseAsync(connection, transaction, row, new CloseCommand(
                    command.Key, row.PositionId, command.ExitPrice, command.Fee, command.At, command.Reason, Liquidated: false, command.Fills,
                    AtField: "reduced_at"), ct)
                    .ConfigureAwait(false)
                : await ReducePartAsync(connection, transaction, row, command, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<PositionRecord> CloseAsync(ClosePositionRequest request, CancellationToken cancellationToken)
    {
        var command = Parse(request, times);
        return writer.ExecuteAsync(Context("ClosePosition", command.Key, request) with { TotalsField = "realized_pnl" }, async (connection, transaction, ct) =>
        {
            var row = await LockOpenAsync(connection, transaction, command.PositionId, command.At, "closed_at", ct).ConfigureAwait(false);
            // The whole open quantity is closed at exit_price: that notional is bounded like any other.
            Notional(row.Quantity, command.ExitPrice, "exit_price");
            return await CloseAsync(connection, transaction, row, command, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

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

    private static async Task<PositionRow> LockOpenAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid positionId, DateTimeOffset at, string atField, CancellationToken ct)
    {
        await using var find = Sql.Command(
            $"SELECT {PositionRow.Columns} FROM positions WHERE position_id = $1 FOR UPDATE", connection, transaction, positionId);
        var row = await ReadOneAsync(find, ct).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Position {positionId} does not exist."));
        if (!row.IsOpen)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Position {positionId} is already {row.Status}."));
        }

        return at < row.OpenedAt
            ? throw new RequestValidationException(atField, "must not be before the position's opened_at")
            : row;
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
                row.Symbol, side, fill.Price, fill.Quantity, fill.Fee, pnl, fill.ExecutedAt, row.PositionId);
            foreach (var command in Trades.TradeStore.Commands(recorded, fill.ExchangeOrderId, row.Strategy))
            {
                yield return command;
            }
        }
    }

    private static async Task<PositionRow?> ReadFirstAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        // The key claim before the read yields no result set: the first one is the read's.
        do
        {
            if (reader.FieldCount > 0)
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? PositionRow.Read(reader) : null;
            }
        }
        while (await reader.NextResultAsync(ct).ConfigureAwait(false));

        return null;
    }

    private static async Task<PositionRow?> ReadOneAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? PositionRow.Read(reader) : null;
    }

    private static IdempotencyContext<PositionRecord> Context(string rpc, string key, Google.Protobuf.IMessage request) =>
        new(rpc, key, "idempotency_key", request, PositionRecord.Parser, r => r.Replayed = true);
}
