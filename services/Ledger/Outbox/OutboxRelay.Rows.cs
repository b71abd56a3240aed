using Npgsql;
using TradeEngine.Ledger.Data;

namespace TradeEngine.Ledger.Outbox;

// OutboxRelay's reads and writes of outbox rows: the fetch, the marks as sent and the record of a failure.
public sealed partial class OutboxRelay
{
    // Parked aggregates ($2) are left out: one row this relay cannot publish must not hold back the others.
    private const string FetchSql =
        "SELECT outbox_id, event_id, aggregate_id, message_type, payload::text FROM outbox WHERE sent_at IS NULL " +
        "AND NOT (aggregate_id = ANY($2)) ORDER BY outbox_id LIMIT $1";

    private const string MarkSentSql = "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE outbox_id = ANY($1)";

    // The columns of an outbox row as FetchSql reads them.
    private const int RowColumns = 5;

    private async Task<List<OutboxRow>> FetchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = PlannedBatch.IndexOnly(connection, Sql.Batch(FetchSql, _options.BatchSize, Parked()));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadRowsAsync(reader, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks the published rows sent in one UPDATE and, in the same round trip, fetches the next batch. Both run in
    /// one implicit transaction, so the SELECT sees the rows just marked as sent and skips them.
    /// </summary>
    private async Task<List<OutboxRow>> MarkSentAndFetchAsync(List<long> ids)
    {
        // Marking must not be cut short by shutdown: a published event left unmarked would be published again.
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        await using var batch = PlannedBatch.IndexOnly(connection, Sql.Batch(MarkSentSql, ids.ToArray()), Sql.Batch(FetchSql, _options.BatchSize, Parked()));
        await using var reader = await batch.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        return await ReadRowsAsync(reader, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task<List<OutboxRow>> ReadRowsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        // The rows are the batch's only result set of their shape: an UPDATE yields none, set_config one of one column.
        var rows = new List<OutboxRow>();
        do
        {
            while (reader.FieldCount == RowColumns && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
            }
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

        return rows;
    }

    private async Task MarkSentAsync(List<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        await using var batch = PlannedBatch.IndexOnly(connection, Sql.Batch(MarkSentSql, ids.ToArray()));
        await batch.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task RecordFailureAsync(OutboxRow row, Exception error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var message = $"{error.GetType().Name}: {error.Message}";
        await using var command = Sql.Command(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE outbox_id = $1", connection, null,
            row.OutboxId, message.Length > 1024 ? message[..1024] : message);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record OutboxRow(long OutboxId, Guid EventId, string AggregateId, string MessageType, string Payload);
}
