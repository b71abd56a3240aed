using Grpc.Core;
using Npgsql;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Data;

/// <summary>
/// PostgreSQL out of reach, or refusing for the moment, becomes UNAVAILABLE before the shared ExceptionInterceptor sees
/// it: a connection that cannot be opened or was lost, a pool that gave no connection in time, a server shutting down
/// or not taking connections, a deadlock or serialization failure. Whatever the transaction did either did not commit or
/// committed under its idempotency key, where the retry finds it, so the caller retries with the same key; gRPC's retry
/// policies and Execution's queued writes retry UNAVAILABLE. Before, they were INTERNAL ("Internal error.", logged as an
/// unhandled exception), which reads as a defect no retry can help. Any other database error stays INTERNAL. The status
/// names no server, database or user: the exception's text stays in the log.
/// </summary>
public sealed partial class DatabaseExceptionInterceptor(ILogger<DatabaseExceptionInterceptor> logger) : TranslatingInterceptor
{
    protected override Exception? Translate(Exception exception, ServerCallContext context) =>
        IsUnavailable(exception) ? Unavailable(exception, context) : null;

    /// <summary>
    /// Npgsql's own judgement (<see cref="NpgsqlException.IsTransient"/>: I/O and socket failures, timeouts, and the
    /// server's transient SQLSTATEs), plus the connection-exception class 08 and the shutdown codes 57P01–57P03.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    private RpcException Unavailable(Exception exception, ServerCallContext context)
    {
        LogUnavailable(logger, exception, context.Method);
        return new RpcException(new Status(StatusCode.Unavailable,
            "The ledger's database cannot be reached for the moment. Retry with the same idempotency key: a write that did commit is answered from it, never made twice."));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} failed: the ledger's database cannot be reached for the moment")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string method);
}
