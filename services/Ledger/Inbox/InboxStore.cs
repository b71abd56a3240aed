using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Inbox;

/// <summary>
/// The shared inbox of consumers outside the Ledger (the other services keep no database): one row per consumer and
/// event, either <c>in_progress</c> (claimed, with a lease) or <c>processed</c>. Claiming is one statement, so two
/// concurrent deliveries of an event cannot both be CLAIMED. Times are the database's clock, the same for every caller.
/// </summary>
public sealed class InboxStore(NpgsqlDataSource dataSource)
{
    public const int DefaultLeaseSeconds = 60;
    public const int MaxLeaseSeconds = 3600;
    private const int ConsumerLength = 128;

    // Insert a claim, take over a claim whose lease has expired, or renew the caller's own claim (same token: a repeat of
    // a claim whose answer was lost); otherwise report the row as it stands. When the
    // conflicting row was committed after this statement's snapshot the second SELECT sees nothing: that is a claim
    // another caller has just taken, i.e. IN_PROGRESS.
    private const string ClaimSql = """
        WITH claimed AS (
            INSERT INTO inbox (consumer, event_id, status, claim_token, claimed_at, lease_until, processed_at, claims)
            VALUES ($1, $2, 'in_progress', $3, now(), now() + make_interval(secs => $4), NULL, 1)
            ON CONFLICT (consumer, event_id) DO UPDATE
                SET claim_token = EXCLUDED.claim_token, claimed_at = EXCLUDED.claimed_at, lease_until = EXCLUDED.lease_until,
                    claims = inbox.claims + 1
                WHERE inbox.status = 'in_progress' AND (inbox.lease_until <= now() OR inbox.claim_token = EXCLUDED.claim_token)
            RETURNING 'claimed'::text AS outcome, lease_until)
        SELECT outcome, lease_until FROM claimed
        UNION ALL
        SELECT status, lease_until FROM inbox
        WHERE consumer = $1 AND event_id = $2 AND NOT EXISTS (SELECT 1 FROM claimed)
        """;

    // Processed whoever holds the claim, and whether or not one exists: the work is done.
    private const string CompleteSql = """
        INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)
        ON CONFLICT (consumer, event_id) DO UPDATE
            SET status = 'processed', processed_at = now(), claim_token = NULL, lease_until = NULL
            WHERE inbox.status <> 'processed'
        """;

    public async Task<CheckInboxResponse> CheckAsync(CheckInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var consumer = Text(r.Consumer, "consumer", ConsumerLength);
        var eventId = Id(r.EventId, "event_id");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2 AND status = 'processed')",
            connection, null, consumer, eventId);
        return new CheckInboxResponse { Processed = (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! };
    }

    /// <summary>The older protocol's record step: the same as <see cref="CompleteAsync"/>.</summary>
    public async Task<RecordInboxResponse> RecordAsync(RecordInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var firstTime = await CompleteAsync(Text(r.Consumer, "consumer", ConsumerLength), Id(r.EventId, "event_id"), cancellationToken)
            .ConfigureAwait(false);
        return new RecordInboxResponse { FirstTime = firstTime };
    }

    public async Task<ClaimInboxResponse> ClaimAsync(ClaimInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var consumer = Text(r.Consumer, "consumer", ConsumerLength);
        var eventId = Id(r.EventId, "event_id");
        var lease = r.LeaseSeconds == 0 ? DefaultLeaseSeconds
            : r.LeaseSeconds is > 0 and <= MaxLeaseSeconds ? r.LeaseSeconds
            : throw new RequestValidationException("lease_seconds", $"must be between 1 and {MaxLeaseSeconds} (0 means {DefaultLeaseSeconds})");
        var token = string.IsNullOrEmpty(r.ClaimToken) ? Guid.CreateVersion7() : Id(r.ClaimToken, "claim_token");

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(ClaimSql, connection, null, consumer, eventId, token, (double)lease);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return new ClaimInboxResponse { Outcome = InboxClaimOutcome.InProgress };
        }

        var response = new ClaimInboxResponse
        {
            Outcome = reader.GetString(0) switch
            {
                "claimed" => InboxClaimOutcome.Claimed,
                "processed" => InboxClaimOutcome.AlreadyProcessed,
                _ => InboxClaimOutcome.InProgress,
            },
            LeaseUntil = Timestamp(reader.NullableInstant(1)),
        };
        if (response.Outcome == InboxClaimOutcome.Claimed)
        {
            response.ClaimToken = token.ToString();
        }

        return response;
    }

    public async Task<CompleteInboxResponse> CompleteAsync(CompleteInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var firstTime = await CompleteAsync(Text(r.Consumer, "consumer", ConsumerLength), Id(r.EventId, "event_id"), cancellationToken)
            .ConfigureAwait(false);
        return new CompleteInboxResponse { FirstTime = firstTime };
    }

    public async Task<ReleaseInboxResponse> ReleaseAsync(ReleaseInboxRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var consumer = Text(r.Consumer, "consumer", ConsumerLength);
        var eventId = Id(r.EventId, "event_id");
        var token = Id(r.ClaimToken, "claim_token");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "DELETE FROM inbox WHERE consumer = $1 AND event_id = $2 AND status = 'in_progress' AND claim_token = $3",
            connection, null, consumer, eventId, token);
        return new ReleaseInboxResponse { Released = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1 };
    }

    private async Task<bool> CompleteAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(CompleteSql, connection, null, consumer, eventId);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }
}
