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

    private async Task CleanupAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - $1", connection, null, options.Value.Retention);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            LogCleaned(logger, deleted);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the outbox backlog metrics")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} sent outbox rows past retention")]
    private static partial void LogCleaned(ILogger logger, int count);
}
