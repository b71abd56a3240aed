using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Ledger.Mapping;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Risk;

/// <summary>
/// The kill switch's durable state (so it survives restarts of Risk), every change to it, and a
/// <see cref="KillSwitchTriggered"/> event per change, in order (one aggregate). A change to the state the switch is
/// already in changes nothing (<c>unchanged</c> in the answer).
/// </summary>
public sealed class KillSwitchStore(NpgsqlDataSource dataSource, IdempotentWriter writer, TimeProvider time)
{
    private const string Aggregate = "kill-switch";

    /// <summary>The trigger of a reset that names none.</summary>
    private const string ResetTrigger = "operator";

    /// <summary>
    /// The triggers ledger.proto lists, as Risk writes them and reads them back (Risk's KillSwitchTriggers). Any other
    /// text was stored as given and came back from GetKillSwitch as a trigger Risk cannot name (UNSPECIFIED).
    /// </summary>
    private static readonly string[] Triggers = ["daily_loss", "drawdown", "liquidate_all", ResetTrigger, "emergency_close_all"];

    public async Task<KillSwitchState> GetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT active, trigger, reason, actor, changed_at FROM kill_switch WHERE id = 1", connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : new KillSwitchState { Active = false };
    }

    public Task<KillSwitchState> SetAsync(SetKillSwitchRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var trigger = Trigger(r);
        var reason = OptionalText(r.Reason, "reason", 1024) ?? string.Empty;
        var actor = Text(r.Actor, "actor", 128);
        var call = new IdempotencyContext<KillSwitchState>("SetKillSwitch", key, "idempotency_key", r, KillSwitchState.Parser, x => x.Replayed = true);
        return writer.ExecuteAsync(call, async (connection, transaction, ct) =>
        {
            // The state row's lock first, the time after it: concurrent changes are stamped in the order they commit,
            // so the state, the history (change_id) and the events never go back in time. Never before the previous
            // change either, should another instance's clock be ahead.
            // (The first change ever inserts a placeholder row, dated before any change, that the batch below overwrites.)
            KillSwitchState current;
            await using (var lockRow = Sql.Command(
                "INSERT INTO kill_switch (id, active, trigger, reason, actor, changed_at) VALUES (1, false, '', '', '', $1) " +
                "ON CONFLICT (id) DO UPDATE SET active = kill_switch.active RETURNING active, trigger, reason, actor, changed_at",
                connection, transaction, Wire.MinInstant))
            await using (var reader = await lockRow.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await reader.ReadAsync(ct).ConfigureAwait(false);
                current = Read(reader);
            }

            var previous = current.ChangedAt.ToDateTimeOffset();
            if (current.Active == r.Active)
            {
                // Already in the state asked for: left as it is (a second trigger keeps the first cause), no change on
                // record and no event; only the key and this answer are stored, so a retry gets the same answer.
                current.Unchanged = true;
                if (previous == Wire.MinInstant)
                {
                    // A reset of a switch never changed: the placeholder row goes, as if this call had not locked it.
                    await using var drop = Sql.Command("DELETE FROM kill_switch WHERE id = 1", connection, transaction);
                    await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    return new KillSwitchState { Active = false, Unchanged = true };
                }

                return current;
            }

            var now = Wire.ToMicrosecond(time.GetUtcNow());
            var changedAt = previous > now ? previous : now;
            var eventId = NewId.NextGuid();
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Sql.Batch(
                        "UPDATE kill_switch SET active = $1, trigger = $2, reason = $3, actor = $4, changed_at = $5 WHERE id = 1",
                        r.Active, trigger, reason, actor, changedAt),
                    Sql.Batch(
                        "INSERT INTO kill_switch_history (active, trigger, reason, actor, changed_at) VALUES ($1, $2, $3, $4, $5)",
                        r.Active, trigger, reason, actor, changedAt),
                    OutboxWriter.Command(eventId, Aggregate, new KillSwitchTriggered(eventId, changedAt, r.Active, trigger, reason, actor)),
                },
            };
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new KillSwitchState { Active = r.Active, Trigger = trigger, Reason = reason, Actor = actor, ChangedAt = Timestamp(changedAt) };
        }, cancellationToken);
    }

    public async Task<GetKillSwitchHistoryResponse> HistoryAsync(GetKillSwitchHistoryRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var (size, after) = Page(r.Page, 'h', Filter());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT active, trigger, reason, actor, changed_at, change_id FROM kill_switch_history " +
            "WHERE ($2::bigint IS NULL OR change_id < $2) ORDER BY change_id DESC LIMIT $1",
            connection, null, size + 1, after?.Ticks);
        var changes = new List<KillSwitchState>();
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            changes.Add(Read(reader));
            ids.Add(reader.GetInt64(5));
        }

        // A page of long reasons ends early (Fit), and its token leads on from its last row.
        var count = Fit(changes, size);
        var last = count > 0 ? ids[count - 1] : 0;
        var response = new GetKillSwitchHistoryResponse { NextPageToken = NextToken('h', new PageCursor(last, null), changes.Count > count, Filter()) };
        response.Changes.AddRange(changes.Take(count));
        return response;
    }

    /// <summary>One of <see cref="Triggers"/>: required to latch the switch; a reset that names none is the operator's.</summary>
    private static string Trigger(SetKillSwitchRequest r)
    {
        if (!r.Active && string.IsNullOrEmpty(r.Trigger))
        {
            return ResetTrigger;
        }

        var trigger = Text(r.Trigger, "trigger", 64);
        return Triggers.Contains(trigger, StringComparer.Ordinal) ? trigger
            : throw new RequestValidationException("trigger", $"must be one of {string.Join(", ", Triggers)}");
    }

    private static KillSwitchState Read(NpgsqlDataReader reader) => new()
    {
        Active = reader.GetBoolean(0),
        Trigger = reader.GetString(1),
        Reason = reader.GetString(2),
        Actor = reader.GetString(3),
        ChangedAt = Timestamp(reader.Instant(4)),
    };
}
