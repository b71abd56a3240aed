using System.Text.Json;
using Npgsql;
using TradeEngine.Ledger.Data;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Adds an event to the outbox inside the caller's transaction: it commits with the row it describes or not at all.
/// The insert fires <c>NOTIFY ledger_outbox</c> (a trigger), delivered at commit, which wakes the relay.
/// </summary>
public static class OutboxWriter
{
    private const string InsertSql =
        "INSERT INTO outbox (event_id, aggregate_id, message_type, payload) VALUES ($1, $2, $3, $4::jsonb)";

    /// <param name="eventId">The event's own id; the relay publishes it as the MassTransit MessageId.</param>
    /// <param name="aggregateId">Events of one aggregate (a position, the kill switch) are published in order.</param>
    public static NpgsqlBatchCommand Command<TEvent>(Guid eventId, string aggregateId, TEvent message)
        where TEvent : class =>
        Sql.Batch(InsertSql, eventId, aggregateId, OutboxMessageTypes.NameOf(typeof(TEvent)),
            JsonSerializer.Serialize(message, OutboxMessageTypes.Json));

    public static async Task AddAsync<TEvent>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid eventId, string aggregateId, TEvent message,
        CancellationToken cancellationToken)
        where TEvent : class
    {
        await using var command = Sql.Command(InsertSql, connection, transaction, eventId, aggregateId,
            OutboxMessageTypes.NameOf(typeof(TEvent)), JsonSerializer.Serialize(message, OutboxMessageTypes.Json));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
