using TradeEngine.Ledger.Mapping;
using Grpc.Core;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using static TradeEngine.Ledger.Positions.PositionCommands;

namespace TradeEngine.Ledger.Positions;

/// <summary>
/// Opens, adds to, reduces and closes position records. Each change locks the position row, writes the row, a
/// <c>position_changes</c> journal entry and its event in one transaction, under the call's idempotency key.
/// </summary>
public sealed partial class PositionStore(IdempotentWriter writer, RecordedTimes times)
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
