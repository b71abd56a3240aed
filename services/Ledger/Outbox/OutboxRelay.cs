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

    /// <summary>How long an aggregate with a row this relay cannot publish is left out before it is tried again.</summary>
    private static readonly TimeSpan ParkFor = TimeSpan.FromMinutes(1);

    // Aggregates whose head row cannot be published by this release (a message type it does not know, a payload it
    // cannot read: a newer Ledger wrote it during a rolling upgrade, or a defect). Their rows stay unsent, in order, and
    // the outbox age metric shows them; every other aggregate goes on.
    private readonly Dictionary<string, DateTimeOffset> _parked = new(StringComparer.Ordinal);

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
            // Stopping (during the publish, or the linger below): what went out is marked before the relay returns, so a
            // restart does not publish it again. MarkSentAsync takes no token; the stop does not cut it short.
            if (stoppingToken.IsCancellationRequested
                || (failure is null && batch.Count < _options.LingerBelowRows && !await LingerUnlessStoppedAsync(stoppingToken).ConfigureAwait(false)))
            {
                await MarkSentAsync(sent).ConfigureAwait(false);
                return;
            }

            if (failure is null)
            {
                // Marking this batch and fetching the next share one round trip. After a small batch (above), the commits
                // of the next moment were let in first, so under a steady trickle each read and mark carries several rows.

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

    /// <summary>Lets the commits of the next moment in before a read (<see cref="OutboxOptions.Linger"/>; zero reads at once).</summary>
    private Task LingerAsync(CancellationToken stoppingToken) =>
        _options.Linger > TimeSpan.Zero ? Task.Delay(_options.Linger, stoppingToken) : Task.CompletedTask;

    /// <summary>The linger after a published batch: false, not an exception, when the stop comes during it.</summary>
    private async Task<bool> LingerUnlessStoppedAsync(CancellationToken stoppingToken)
    {
        try
        {
            await LingerAsync(stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay disabled by configuration (Ledger:Outbox:RelayEnabled)")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox relay is the active relay")]
    private static partial void LogLeading(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing outbox events failed; {Pending} wait, retrying in {Backoff}")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int pending, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay lost its database connection; retrying in {Backoff}")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception exception, TimeSpan backoff);
}
