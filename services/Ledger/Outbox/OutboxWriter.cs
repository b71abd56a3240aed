using System.Text.Json;
using Npgsql;
using TradeEngine.Ledger.Data;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Adds an event to the outbox inside the caller's transaction: it commits with the row it describes or not at all.
/// The writer wakes the relay after the commit (<see cref="OutboxNotifier"/>, called by IdempotentWriter).
/// </summary>
/// <remarks>
/// <para><b>Per-aggregate order relies on the aggregate's row lock.</b> The relay publishes in <c>outbox_id</c> order,
/// and ids are drawn when the row is inserted, not when its transaction commits. Two transactions writing events of
/// one aggregate therefore publish in written order only if the second cannot insert its outbox row before the first
/// has committed. So every writer of an aggregate's events takes that aggregate's row lock (<c>FOR UPDATE</c>, or an
/// UPDATE of the row) before it inserts the outbox row, and holds it to commit:</para>
/// <list type="bullet">
/// <item>a position (aggregate id = position id): PositionStore (<c>SELECT … FOR UPDATE</c>, or the insert of a new
/// row), PositionAmendments (<c>SELECT … FOR UPDATE</c>), FundingStore (<c>SELECT … FOR UPDATE</c>), TradeStore for a trade with a position id (<c>SELECT … FOR UPDATE</c>
/// first in its batch; a foreign key check alone takes only a KEY SHARE lock, which a funding UPDATE does not wait for);</item>
/// <item>the kill switch (aggregate id <c>kill-switch</c>): KillSwitchStore locks the single <c>kill_switch</c> row;</item>
/// <item>a trade without a position and a risk event are aggregates of one event each: nothing to order.</item>
/// </list>
/// <para>Events of different aggregates carry no order between them. A new writer of an aggregate's events must take
/// the same lock, before its outbox insert and in the same order as the others (the idempotency key row first, then
/// the aggregate row) so that writers cannot deadlock.</para>
/// </remarks>
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
