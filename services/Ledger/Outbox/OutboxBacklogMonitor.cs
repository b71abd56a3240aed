using Microsoft.Extensions.Options;
using Npgsql;
using TradeEngine.Ledger.Data;

namespace TradeEngine.Ledger.Outbox;

/// <summary>Refreshes the backlog metrics every few seconds and deletes sent rows past their retention.</summary>
public sealed partial class OutboxBacklogMonitor(
    NpgsqlDataSource dataSource, OutboxMetrics metrics, IOptions<OutboxOptions> options, ILogger<OutboxBacklogMonitor> logger)
    : BackgroundService
{
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromHours(1);

    /// <summary>The lowest ids one cleanup transaction looks at.</summary>
    public const int CleanupBatch = 5_000;

    /// <summary>The most cleanup transactions one run makes (a million rows).</summary>
    public const int CleanupMaxBatches = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastCleanup = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(options.Value.BacklogRefresh);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
                if (DateTimeOffset.UtcNow - lastCleanup > CleanupInterval)
                {
                    await CleanupAsync(stoppingToken).ConfigureAwait(false);
                    lastCleanup = DateTimeOffset.UtcNow;
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                LogRefreshFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT count(*), COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM outbox WHERE sent_at IS NULL",
            connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        metrics.SetBacklog(reader.GetInt64(0), reader.GetDouble(1));
    }

    /// <summary>
    /// Deletes sent rows past <see cref="OutboxOptions.Retention"/>, oldest first, in short transactions of at most
    /// <see cref="CleanupBatch"/> rows; returns how many it deleted.
    /// </summary>
    /// <remarks>
    /// The outbox holds the whole retention window (7 days of events) and has no index on <c>sent_at</c>: one
    /// <c>DELETE … WHERE sent_at &lt; …</c> read every row of it each hour, and removed an hour of rows in one transaction.
    /// Ids grow with time, so the rows past retention are the oldest ids: each batch looks at the next
    /// <see cref="CleanupBatch"/> ids after the last batch's (through <c>outbox_pkey</c>) and deletes those of them sent
    /// before the cutoff. It stops at a batch whose last row was written within retention (every later id is newer) or
    /// past the last row. Rows never sent (a relay held up, or an aggregate parked for a message type this release cannot
    /// publish) are stepped over, not taken for the end: before, a batch that deleted nothing ended the run, so 5,000
    /// unsent rows at the lowest ids stopped every cleanup for good. At most <see cref="CleanupMaxBatches"/> batches
    /// run at a time; the rest waits for the next run.
    /// </remarks>
    public async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        var after = 0L;
        for (var batch = 0; batch < CleanupMaxBatches; batch++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // As the relay's statements: no sequential scan, whatever plan was cached while the outbox was small.
            await using var delete = PlannedBatch.IndexOnly(connection, Sql.Batch(
                "WITH scanned AS (SELECT outbox_id, created_at FROM outbox WHERE outbox_id > $3 ORDER BY outbox_id LIMIT $2), " +
                "deleted AS (DELETE FROM outbox o USING scanned s WHERE o.outbox_id = s.outbox_id " +
                "AND o.sent_at IS NOT NULL AND o.sent_at < now() - $1 RETURNING o.outbox_id) " +
                "SELECT (SELECT count(*) FROM deleted)::int, (SELECT max(outbox_id) FROM scanned), " +
                "COALESCE((SELECT created_at < now() - $1 FROM scanned ORDER BY outbox_id DESC LIMIT 1), false)",
                options.Value.Retention, CleanupBatch, after));
            await using var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            total += reader.GetInt32(0);
            var more = !reader.IsDBNull(1) && reader.GetBoolean(2);
            after = reader.IsDBNull(1) ? after : reader.GetInt64(1);
            if (!more)
            {
                break;
            }
        }

        if (total > 0)
        {
            LogCleaned(logger, total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the outbox backlog metrics")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} sent outbox rows past retention")]
    private static partial void LogCleaned(ILogger logger, int count);
}
