using System.Buffers;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Mapping;
using TradeEngine.Ledger.Outbox;

namespace TradeEngine.Ledger.Idempotency;

/// <summary>
/// Runs a mutating RPC once per idempotency key. The key row (RPC, key, SHA-256 of the request, response) is
/// inserted in the transaction that does the work, so it commits with it or not at all. A concurrent or later call
/// with the same key collides on the key's primary key (waiting for the first to commit): the same request gets the
/// stored response with <c>replayed</c> set, a different one ALREADY_EXISTS; neither writes anything. After a commit
/// it wakes the outbox relay (<see cref="OutboxNotifier"/>): every outbox row is written through here.
/// </summary>
public sealed partial class IdempotentWriter(NpgsqlDataSource dataSource, OutboxNotifier outbox, ILogger<IdempotentWriter> logger)
{
    private const string KeyConstraint = "idempotency_keys_pkey";
    private const int MaxAttempts = 3;

    private const string ClaimSql = "INSERT INTO idempotency_keys (rpc, key, request_hash) VALUES ($1, $2, $3)";
    private const string StoreSql = "UPDATE idempotency_keys SET response = $3 WHERE rpc = $1 AND key = $2";

    /// <summary>Work that reads before it writes: the key row goes first, the response is stored at the end.</summary>
    public Task<TResponse> ExecuteAsync<TResponse>(
        IdempotencyContext<TResponse> call,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<TResponse>> work,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(call, async (connection, transaction, hash, ct) =>
        {
            await using (var claim = Sql.Command(ClaimSql, connection, transaction, call.Rpc, call.Key, hash))
            {
                await claim.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            var response = await work(connection, transaction, ct).ConfigureAwait(false);
            await using (var store = Sql.Command(StoreSql, connection, transaction, call.Rpc, call.Key, response.ToByteArray()))
            {
                await store.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return response;
        }, cancellationToken);
    }

    /// <summary>
    /// Work that reads before it writes, in fewer round trips: the key row and the work's first read (<paramref name="lead"/>,
    /// read by <paramref name="readLead"/>) share one batch, and the work puts the statement that stores its response
    /// (the function it is given) into its last batch. Used by the Ledger's busiest read-then-write RPC, OpenPosition.
    /// </summary>
    public Task<TResponse> ExecuteAsync<TLead, TResponse>(
        IdempotencyContext<TResponse> call,
        Func<NpgsqlBatchCommand> lead,
        Func<NpgsqlDataReader, CancellationToken, Task<TLead>> readLead,
        Func<NpgsqlConnection, NpgsqlTransaction, TLead, Func<TResponse, NpgsqlBatchCommand>, CancellationToken, Task<TResponse>> work,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(lead);
        ArgumentNullException.ThrowIfNull(readLead);
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(call, async (connection, transaction, hash, ct) =>
        {
            TLead first;
            await using (var batch = new NpgsqlBatch(connection, transaction)
                         {
                             BatchCommands = { Sql.Batch(ClaimSql, call.Rpc, call.Key, hash), lead() },
                         })
            {
                await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
                first = await readLead(reader, ct).ConfigureAwait(false);
            }

            NpgsqlBatchCommand? store = null;
            var response = await work(connection, transaction, first, r =>
            {
                store = Sql.Batch(StoreSql, call.Rpc, call.Key, r.ToByteArray());
                return store;
            }, ct).ConfigureAwait(false);
            // The work must have run the statement it was given (one row: this call's key), or the key would commit
            // without its response and every replay of it would fail.
            if (store is null || store.RecordsAffected != 1)
            {
                throw new InvalidOperationException($"{call.Rpc}: the work did not store its response with its key.");
            }

            return response;
        }, cancellationToken);
    }

    /// <summary>One transaction per attempt around <paramref name="body"/>, with the key collision and constraint rules.</summary>
    private async Task<TResponse> RunAsync<TResponse>(
        IdempotencyContext<TResponse> call,
        Func<NpgsqlConnection, NpgsqlTransaction, byte[], CancellationToken, Task<TResponse>> body,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(call);
        var hash = HashOf(call.Request);
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var response = await body(connection, transaction, hash, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                outbox.Committed();
                return response;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == KeyConstraint)
            {
                if (await ReplayAsync(connection, call, hash, cancellationToken).ConfigureAwait(false) is { } replay)
                {
                    return replay;
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && attempt < MaxAttempts
                                               && ex.ConstraintName is { } constraint && call.RetryOnConstraint?.Contains(constraint) == true)
            {
                // A concurrent call won a race this call can now see (e.g. the first open of a symbol): run again.
                LogRetry(logger, call.Rpc, ex.ConstraintName ?? string.Empty);
                continue;
            }
            catch (PostgresException ex) when (ConstraintErrors.Translate(ex) is { } translated)
            {
                throw translated;
            }
            catch (Exception ex) when (IsOverflow(ex))
            {
                throw LedgerWire.TotalOutOfRange(call.TotalsField);
            }

            if (attempt >= MaxAttempts)
            {
                throw new RpcException(new Status(StatusCode.Aborted, "The call collided with a concurrent one; retry it."));
            }
        }
    }

    /// <summary>
    /// Work that only inserts, with the response known up front: the key row and the work's statements go to the
    /// server as one batch, in one round trip. The batch carries no BEGIN: PostgreSQL runs the statements before a
    /// protocol Sync (Npgsql sends one per batch) as one implicit transaction, committed at the Sync when every
    /// statement succeeded and rolled back as a whole when any fails. So the key, the row and its outbox row still
    /// commit together or not at all, with one round trip fewer than BEGIN … COMMIT.
    /// </summary>
    public async Task<TResponse> ExecuteBatchAsync<TResponse>(
        IdempotencyContext<TResponse> call,
        TResponse response,
        IEnumerable<NpgsqlBatchCommand> commands,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(commands);
        var hash = HashOf(call.Request);
        var statements = commands.ToList();
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var batch = new NpgsqlBatch(connection);
                batch.BatchCommands.Add(Sql.Batch(
                    "INSERT INTO idempotency_keys (rpc, key, request_hash, response) VALUES ($1, $2, $3, $4)",
                    call.Rpc, call.Key, hash, response.ToByteArray()));
                foreach (var statement in statements)
                {
                    batch.BatchCommands.Add(statement);
                }

                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                outbox.Committed();
                return response;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == KeyConstraint)
            {
                if (await ReplayAsync(connection, call, hash, cancellationToken).ConfigureAwait(false) is { } replay)
                {
                    return replay;
                }

                // The batch's commands belong to the failed batch; a new attempt needs fresh copies.
                statements = statements.Select(Clone).ToList();
            }
            catch (PostgresException ex) when (ConstraintErrors.Translate(ex) is { } translated)
            {
                throw translated;
            }
            catch (Exception ex) when (IsOverflow(ex))
            {
                throw LedgerWire.TotalOutOfRange(call.TotalsField);
            }
        }

        throw new RpcException(new Status(StatusCode.Aborted, "The call collided with a concurrent one; retry it."));
    }

    /// <summary>
    /// A total that no longer fits: PostgreSQL's numeric_value_out_of_range (a sum past NUMERIC(28,8)) or decimal
    /// arithmetic in the work. Request values are bounded before any work runs, so what overflows here is a total.
    /// </summary>
    private static bool IsOverflow(Exception ex) =>
        ex is OverflowException || (ex is PostgresException pg && pg.SqlState == PostgresErrorCodes.NumericValueOutOfRange);

    /// <summary>The stored response when the request matches; null when the first call rolled back meanwhile.</summary>
    private static async Task<TResponse?> ReplayAsync<TResponse>(
        NpgsqlConnection connection, IdempotencyContext<TResponse> call, byte[] hash, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        await using var read = Sql.Command(
            "SELECT request_hash, response FROM idempotency_keys WHERE rpc = $1 AND key = $2", connection, null, call.Rpc, call.Key);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return default;
        }

        var storedHash = reader.GetFieldValue<byte[]>(0);
        if (!CryptographicOperations.FixedTimeEquals(storedHash, hash))
        {
            throw new RpcException(new Status(
                StatusCode.AlreadyExists, $"{call.KeyField} was already used with a different request; nothing was changed."));
        }

        var response = call.Parser.ParseFrom(reader.GetFieldValue<byte[]>(1));
        call.MarkReplayed(response);
        return response;
    }

    /// <summary>SHA-256 of the request's protobuf bytes, serialized into a pooled buffer rather than a new array per call.</summary>
    private static byte[] HashOf(IMessage request)
    {
        var size = request.CalculateSize();
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            request.WriteTo(buffer.AsSpan(0, size));
            return SHA256.HashData(buffer.AsSpan(0, size));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static NpgsqlBatchCommand Clone(NpgsqlBatchCommand command)
    {
        var copy = new NpgsqlBatchCommand(command.CommandText);
        foreach (NpgsqlParameter parameter in command.Parameters)
        {
            // Its type too: a typed null (Sql.Text) keeps the statement's prepared parameter types.
            copy.Parameters.Add(parameter.Clone());
        }

        return copy;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Rpc} collided on {Constraint}; running it again")]
    private static partial void LogRetry(ILogger logger, string rpc, string constraint);
}
