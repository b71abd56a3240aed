using Npgsql;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Wakes the outbox relay after a transaction that may have added outbox rows has committed. When this instance's
/// relay leads, the wake-up is a flag in memory (<see cref="OutboxWakeSignal"/>): no database work at all. When another
/// instance leads, it is a <c>NOTIFY ledger_outbox</c> sent after the commit on a pooled connection, coalesced so that
/// a burst of commits sends a few notifications rather than one each, and never before the commit it announces.
/// </summary>
/// <remarks>
/// Earlier the outbox insert fired the NOTIFY from a trigger, inside the writing transaction. PostgreSQL takes a
/// database-wide lock on its notification queue when such a transaction commits, so every write queued behind every
/// other: with 16 concurrent writers that one lock cost about 30% of the Ledger's throughput (bench/TradeEngine.LedgerLoad).
/// If a wake-up is lost anyway (a NOTIFY fails, leadership moves at that instant), the relay's idle wait picks the
/// rows up (<see cref="OutboxOptions.IdleWait"/>).
/// </remarks>
public sealed partial class OutboxNotifier(NpgsqlDataSource dataSource, ILogger<OutboxNotifier> logger)
{
    /// <summary>The channel the relay LISTENs on.</summary>
    public const string Channel = "ledger_outbox";

    private OutboxWakeSignal? _localRelay;
    private int _requested;
    private int _pumping;

    /// <summary>Whether this instance's relay leads (wake-ups stay in memory).</summary>
    public bool LocalRelayLeads => Volatile.Read(ref _localRelay) is not null;

    /// <summary>Call after the commit of a transaction that may have written outbox rows.</summary>
    public void Committed()
    {
        if (Volatile.Read(ref _localRelay) is { } relay)
        {
            relay.Set();
            return;
        }

        // Another instance leads (or none does yet): announce it through PostgreSQL. A request made while a NOTIFY is
        // in flight is served by one more NOTIFY after it, so every commit is followed by a NOTIFY sent after it.
        Volatile.Write(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
        {
            _ = Task.Run(PumpAsync);
        }
    }

    /// <summary>This instance's relay leads and waits on <paramref name="signal"/>.</summary>
    internal void Lead(OutboxWakeSignal signal) => Volatile.Write(ref _localRelay, signal);

    /// <summary>This instance's relay no longer leads.</summary>
    internal void StopLeading() => Volatile.Write(ref _localRelay, null);

    private async Task PumpAsync()
    {
        while (true)
        {
            try
            {
                while (Interlocked.Exchange(ref _requested, 0) == 1)
                {
                    await NotifyAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                // A full fence (Interlocked), not a volatile write: the read of _requested below must not move before it,
                // or a request made meanwhile could see the pump running while the pump sees no request, and be lost.
                Interlocked.Exchange(ref _pumping, 0);
            }

            // A request that arrived after the last exchange and saw the pump still running is this loop's to serve.
            if (Volatile.Read(ref _requested) == 0 || Interlocked.CompareExchange(ref _pumping, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task NotifyAsync()
    {
        try
        {
            await using var command = dataSource.CreateCommand($"NOTIFY {Channel}");
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or ObjectDisposedException)
        {
            // The leading relay's idle wait will find the rows.
            LogNotifyFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not NOTIFY the leading outbox relay; it will find the rows at its next idle wake-up")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);
}
