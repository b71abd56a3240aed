using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Inbox;

/// <summary>The shared inbox of processed event ids, per consumer (the other services keep no database).</summary>
public sealed class InboxStore(NpgsqlDataSource dataSource)
{
    public async Task<CheckInboxResponse> CheckAsync(CheckInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var consumer = Text(r.Consumer, "consumer", 128);
        var eventId = Id(r.EventId, "event_id");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2)", connection, null, consumer, eventId);
        return new CheckInboxResponse { Processed = (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! };
    }

    public async Task<RecordInboxResponse> RecordAsync(RecordInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var consumer = Text(r.Consumer, "consumer", 128);
        var eventId = Id(r.EventId, "event_id");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", connection, null, consumer, eventId);
        return new RecordInboxResponse { FirstTime = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1 };
    }
}
