using Grpc.Core;
using Npgsql;

namespace TradeEngine.Ledger.Data;

/// <summary>
/// Constraint violations the contract explains to the caller: which constraint, which status, which field.
/// Anything not listed stays an internal error (a bug, not bad input).
/// </summary>
public static class ConstraintErrors
{
    private static readonly Dictionary<string, (StatusCode Code, string Message)> Known = new(StringComparer.Ordinal)
    {
        ["trades_venue_symbol_exchange_trade_id_key"] =
            (StatusCode.AlreadyExists, "exchange_trade_id is already recorded for this venue and symbol."),
        ["trades_position_id_fkey"] = (StatusCode.NotFound, "position_id: no such position."),
        ["funding_events_position_id_fkey"] = (StatusCode.NotFound, "position_id: no such position."),
        ["funding_events_position_id_funding_time_key"] =
            (StatusCode.AlreadyExists, "funding_time: a funding event is already recorded for this position and time."),
        // Backstop only: LogTransfer reads the venue's tran_id under its lock first and answers a repeat itself.
        ["transfers_venue_tran_id_key"] =
            (StatusCode.AlreadyExists, "tran_id: a transfer with this tran_id is already booked for this venue; nothing was changed."),
        ["positions_one_open"] = (StatusCode.FailedPrecondition, "An open position already exists for this account, venue and symbol."),
    };

    public static RpcException? Translate(PostgresException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation
               && exception.ConstraintName is { } name && Known.TryGetValue(name, out var known)
            ? new RpcException(new Status(known.Code, known.Message))
            : null;
    }
}
