using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.ServiceDefaults;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Publishes outbox rows to RabbitMQ and marks them sent. One relay at a time across Ledger instances (a session
/// advisory lock), rows in id order, and rows of one aggregate one after another, so events of an aggregate arrive
/// in the order they were written. It sleeps until a writing transaction commits: in this process the writer sets
/// its wake signal directly, and a writer in another instance sends <c>NOTIFY ledger_outbox</c> (see
/// <see cref="OutboxNotifier"/>). While the broker is down it retries with exponential back-off; nothing is lost and nothing skipped.
/// A crash after a publish and before the row is marked means one more publish of the same event, with the same
/// MessageId (the event id): consumers' inboxes drop it.
/// </summary>
public sealed partial class OutboxRelay(
    NpgsqlDataSource dataSource,
    IBus bus,
    OutboxNotifier notifier,
    OutboxMetrics metrics,
    IOptions<OutboxOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const long LeaderLockKey = 0x4C65646765724F75; // "LedgerOu"

    // Parked aggregates ($2) are left out: one row this relay cannot publish must not hold back the others.
    private const string FetchSql =
        "SELECT outbox_id, event_id, aggregate_id, message_type, payload::text FROM outbox WHERE sent_at IS NULL " +
        "AND NOT (aggregate_id = ANY($2)) ORDER BY outbox_id LIMIT $1";

    /// <summary>How long an aggregate with a row this relay cannot publish is left out before it is tried again.</summary>
    private static readonly TimeSpan ParkFor = TimeSpan.FromMinutes(1);

    // Aggregates whose head row cannot be published by this release (a message type it does not know, a payload it
    // cannot read: a newer Ledger wrote it during a rolling upgrade, or a defect). Their rows stay unsent, in order, and
    // the outbox age metric shows them; every other aggregate goes on.
    private readonly Dictionary<string, DateTimeOffset> _parked = new(StringComparer.Ordinal);

    private const string MarkSentSql = "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE outbox_id = ANY($1)";

    // The columns of an outbox row as FetchSql reads them.
    private const int RowColumns = 5;

    private readonly OutboxOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.RelayEnabled)
        {
            LogDisabled(logger);
            return;
        }

        await Task.Yield();
        var backoff = _options.InitialBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var listener = await dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                try
                {
                    await ExecuteAsync(listener, $"LISTEN {OutboxNotifier.Channel}", stoppingToken).ConfigureAwait(false);
                    while (!await TryLeadAsync(listener, stoppingToken).ConfigureAwait(false))
                    {
                        // Another instance relays; take over if it goes away.
                        await listener.WaitAsync(_options.IdleWait, stoppingToken).ConfigureAwait(false);
                    }

                    LogLeading(logger);
                    backoff = _options.InitialBackoff;
                    using var listening = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    var wake = new OutboxWakeSignal();
                    var listen = wake.ListenAsync(listener, listening.Token);
                    notifier.Lead(wake);
                    try
                    {
                        await RelayAsync(wake, listen, stoppingToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        notifier.StopLeading();
                        await listening.CancelAsync().ConfigureAwait(false);
                        await OutboxWakeSignal.StopAsync(listen).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // The listening session holds the LISTEN and the leader's advisory lock, and pooled connections go back
                    // without a reset (see LedgerServiceCollectionExtensions): this one must not. Clearing the pool closes
                    // it when it is returned (and the idle ones now), so its session, lock and LISTEN end with it. (The
                    // static NpgsqlConnection.ClearPool does not reach a data source's pool.)
                    dataSource.Clear();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                LogDatabaseFailed(logger, ex, backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                backoff = Next(backoff);
            }
        }
    }

    private async Task RelayAsync(OutboxWakeSignal wake, Task listen, CancellationToken stoppingToken)
    {
        var backoff = _options.InitialBackoff;
        var batch = await FetchAsync(stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (listen.IsCompleted)
            {
                // The listening connection, and with it the leader's advisory lock, is gone: another instance may lead
                // now. Stop relaying (this process's own commits keep the wake signal set, so waiting would not notice).
                await listen.ConfigureAwait(false);
                throw new InvalidOperationException("The outbox relay's listening connection stopped.");
            }

            if (batch.Count == 0)
            {
                // A commit since the fetch has already set the signal, so this returns at once; many commits set it once.
                await wake.WaitAsync(listen, _options.IdleWait, stoppingToken).ConfigureAwait(false);
                await LingerAsync(stoppingToken).ConfigureAwait(false);
                batch = await FetchAsync(stoppingToken).ConfigureAwait(false);
                continue;
            }

            var (sent, failure) = await PublishAsync(batch, stoppingToken).ConfigureAwait(false);
            metrics.Published(sent.Count);
            if (failure is null)
            {
                // Marking this batch and fetching the next share one round trip. After a small batch, the commits of the
                // next moment are let in first, so under a steady trickle each read and mark carries several rows.
                if (batch.Count < _options.LingerBelowRows)
                {
                    await LingerAsync(stoppingToken).ConfigureAwait(false);
                }

                batch = await MarkSentAndFetchAsync(sent).ConfigureAwait(false);
                backoff = _options.InitialBackoff;
                continue;
            }

            await MarkSentAsync(sent).ConfigureAwait(false);
            metrics.PublishFailed();
            await RecordFailureAsync(failure.Value.Row, failure.Value.Error, stoppingToken).ConfigureAwait(false);
            LogPublishFailed(logger, failure.Value.Error, batch.Count - sent.Count, backoff);
            await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
            backoff = Next(backoff);
            batch = await FetchAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes aggregates in parallel, each aggregate's rows in order; an aggregate stops at its first failure.</summary>
    private async Task<(List<long> Sent, (OutboxRow Row, Exception Error)? Failure)> PublishAsync(
        List<OutboxRow> batch, CancellationToken stoppingToken)
    {
        var sent = new List<long>(batch.Count);
        (OutboxRow, Exception)? failure = null;
        var poison = new List<(OutboxRow Row, Exception Error)>();
        var groups = batch.GroupBy(r => r.AggregateId).Select(async group =>
        {
            foreach (var row in group)
            {
                try
                {
                    await PublishAsync(row, stoppingToken).ConfigureAwait(false);
                    lock (sent)
                    {
                        sent.Add(row.OutboxId);
                    }
                }
                catch (UnpublishableRowException ex)
                {
                    lock (sent)
                    {
                        poison.Add((row, ex));
                    }

                    return;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    lock (sent)
                    {
                        failure ??= (row, ex);
                    }

                    return;
                }
            }
        });
        await Task.WhenAll(groups).ConfigureAwait(false);
        foreach (var (row, error) in poison)
        {
            _parked[row.AggregateId] = DateTimeOffset.UtcNow + ParkFor;
            LogParked(logger, error, row.OutboxId, row.AggregateId, row.MessageType, ParkFor);
            await RecordFailureAsync(row, error, stoppingToken).ConfigureAwait(false);
        }

        return (sent, failure);
    }

    /// <summary>The aggregates left out of the next fetch (those parked until later than now).</summary>
    private string[] Parked()
    {
        if (_parked.Count == 0)
        {
            return [];
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var expired in _parked.Where(p => p.Value <= now).Select(p => p.Key).ToList())
        {
            _parked.Remove(expired);
        }

        return [.. _parked.Keys];
    }

    private async Task PublishAsync(OutboxRow row, CancellationToken stoppingToken)
    {
        object message;
        Type type;
        try
        {
            type = OutboxMessageTypes.TypeOf(row.MessageType);
            message = JsonSerializer.Deserialize(row.Payload, type, OutboxMessageTypes.Json)
                ?? throw new InvalidOperationException($"Outbox row {row.OutboxId} has an empty payload.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException or NotSupportedException)
        {
            throw new UnpublishableRowException($"Outbox row {row.OutboxId} ({row.MessageType}) cannot be published by this release: {ex.Message}", ex);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.PublishTimeout);
        await bus.Publish(message, type, context => context.MessageId = row.EventId, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Lets the commits of the next moment in before a read (<see cref="OutboxOptions.Linger"/>; zero reads at once).</summary>
    private Task LingerAsync(CancellationToken stoppingToken) =>
        _options.Linger > TimeSpan.Zero ? Task.Delay(_options.Linger, stoppingToken) : Task.CompletedTask;

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

    private static async Task<bool> TryLeadAsync(NpgsqlConnection listener, CancellationToken cancellationToken)
    {
        await using var command = Sql.Command("SELECT pg_try_advisory_lock($1)", listener, null, LeaderLockKey);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan Next(TimeSpan backoff) => Backoff.Doubled(backoff, _options.MaxBackoff);

    private sealed record OutboxRow(long OutboxId, Guid EventId, string AggregateId, string MessageType, string Payload);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox row {OutboxId} of aggregate {AggregateId} ({MessageType}) cannot be published by this release; the aggregate's rows wait (tried again in {ParkFor}), the others go on")]
    private static partial void LogParked(ILogger logger, Exception exception, long outboxId, string aggregateId, string messageType, TimeSpan parkFor);

    /// <summary>A row this release cannot turn into a message (unknown type, unreadable payload): not a broker failure.</summary>
    private sealed class UnpublishableRowException(string message, Exception inner) : Exception(message, inner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay disabled by configuration (Ledger:Outbox:RelayEnabled)")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay is the active relay")]
    private static partial void LogLeading(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing outbox events failed; {Pending} wait, retrying in {Backoff}")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int pending, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay lost its database connection; retrying in {Backoff}")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception exception, TimeSpan backoff);
}
