using System.Threading.Channels;
using Npgsql;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Turns commits into one pending wake-up: those of this process set it directly (<see cref="OutboxNotifier"/>), those
/// of other instances arrive as NOTIFYs on the relay's listening connection. Every committing write signals, but the relay needs to know only that something arrived since its last fetch: a burst of a thousand commits while
/// it publishes leaves one wake-up (one fetch), not a thousand empty fetches as it would if each buffered
/// notification woke it in turn. The connection is read continuously, so notifications never back up in the
/// socket or in PostgreSQL's notification queue while the relay is busy.
/// </summary>
public sealed class OutboxWakeSignal
{
    // Capacity 1, extra writes dropped: a pending wake-up absorbs every later one until the relay takes it. Many writers
    // (every committing request, and the notification handler, at once): the channel was declared single-writer, a
    // promise it did not keep (today's bounded channel locks either way).
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false });

    /// <summary>Sets the wake-up; any number of calls before the next <see cref="WaitAsync"/> count as one.</summary>
    public void Set() => _pending.Writer.TryWrite(true);

    /// <summary>Reads notifications from <paramref name="listener"/> (which has run LISTEN) until cancelled or the connection fails.</summary>
    public Task ListenAsync(NpgsqlConnection listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        listener.Notification += (_, _) => Set();
        return Task.Run(async () =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await listener.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Returns when a wake-up is pending (taking it), after <paramref name="idleWait"/> without one, or by throwing
    /// what ended <paramref name="listen"/>: a lost listening connection must not leave the relay asleep.
    /// </summary>
    public async Task WaitAsync(Task listen, TimeSpan idleWait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (_pending.Reader.TryRead(out _))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idleWait);
        var woken = _pending.Reader.WaitToReadAsync(timeout.Token).AsTask();
        var first = await Task.WhenAny(woken, listen).ConfigureAwait(false);
        if (first == listen)
        {
            await listen.ConfigureAwait(false);
            throw new InvalidOperationException("The outbox relay's listening connection stopped.");
        }

        try
        {
            await woken.ConfigureAwait(false);
            _pending.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Idle wait elapsed without a notification: the caller fetches anyway (a safety net).
        }
    }

    /// <summary>Waits for a cancelled <see cref="ListenAsync"/> loop to end, swallowing the cancellation it ends with.</summary>
    public static async Task StopAsync(Task listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        try
        {
            await listen.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or NpgsqlException or ObjectDisposedException)
        {
            // Stopping, or the connection already failed (the relay's loop has reported that).
        }
    }
}
