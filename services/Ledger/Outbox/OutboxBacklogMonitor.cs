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
    /// Ids grow with time, so the rows past retention are the oldest ids: each batch looks only at the lowest
    /// <see cref="CleanupBatch"/> ids (through <c>outbox_pkey</c>) and deletes those of them sent before the cutoff. It
    /// stops at a batch that deletes nothing: the lowest ids are then all unsent (the relay is held up) or recent. At
    /// most <see cref="CleanupMaxBatches"/> batches run at a time; the rest waits for the next run.
    /// </remarks>
    public async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        for (var batch = 0; batch < CleanupMaxBatches; batch++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            // As the relay's statements: no sequential scan, whatever plan was cached while the outbox was small.
            await using var delete = PlannedBatch.IndexOnly(connection, Sql.Batch(
                "DELETE FROM outbox o USING (SELECT outbox_id FROM outbox ORDER BY outbox_id LIMIT $2) oldest " +
                "WHERE o.outbox_id = oldest.outbox_id AND o.sent_at IS NOT NULL AND o.sent_at < now() - $1",
                options.Value.Retention, CleanupBatch));
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            var deleted = delete.BatchCommands[1].RecordsAffected;
            total += deleted;
            if (deleted == 0)
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
