using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Options;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Ledger;

/// <summary>
/// Ledger writes that follow a fill must land: the fill already happened at the venue. Each write is keyed (so a
/// repeat is a replay, never a second row) and is retried with back-off while the Ledger is unreachable. A request
/// retries for <see cref="ExecutionOptions.LedgerWriteInlineBudget"/>; after that the write moves to a background
/// queue that keeps retrying until it lands, and the request answers with a warning instead of failing.
/// </summary>
public sealed class LedgerWrites(IOptions<ExecutionOptions> options, TimeProvider time, ILogger<LedgerWrites> logger)
{
    private readonly Channel<PendingWrite> _pending = Channel.CreateUnbounded<PendingWrite>();
    private int _backlog;

    /// <summary>Writes waiting in the background queue.</summary>
    public int Backlog => Volatile.Read(ref _backlog);

    /// <summary>
    /// Whether writes made before the caller still wait: anything queued, unless the caller is a queued item the drain
    /// loop runs (every write queued before it has landed; those queued after it come after it).
    /// </summary>
    public bool PendingAhead => !Draining.Value && Backlog > 0;

    // Set while the drain loop (or the shutdown flush) runs a queued item: writes made by that item run once, in place,
    // and a failure fails the item, which the loop retries whole. Re-queueing them at the tail would lose their order.
    private static readonly AsyncLocal<bool> Draining = new();

    /// <summary>
    /// Runs <paramref name="write"/> until it lands or the inline budget is spent; null when it was queued. While
    /// anything is queued, a new write joins the queue at once (null): writes land in the order they were made, so a
    /// change never lands before an earlier one of the same position (which the Ledger would refuse as back-dated).
    /// </summary>
    public async Task<T?> WriteAsync<T>(string description, Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(write);
        if (Draining.Value)
        {
            return await write(cancellationToken).ConfigureAwait(false);
        }

        if (Backlog > 0)
        {
            Log.LedgerWriteDeferred(logger, description);
            Enqueue(new PendingWrite(description, async ct => await write(ct).ConfigureAwait(false)));
            return null;
        }

        var deadline = time.GetUtcNow() + options.Value.LedgerWriteInlineBudget;
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (time.GetUtcNow() + delay >= deadline)
                {
                    Log.LedgerWriteQueued(logger, description, ex.StatusCode);
                    Enqueue(new PendingWrite(description, async ct => await write(ct).ConfigureAwait(false)));
                    return null;
                }

                Log.LedgerWriteRetry(logger, description, attempt, ex.StatusCode);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = Backoff.Doubled(delay, TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="work"/> behind every write already waiting, to run when they have landed: a close or
    /// reduce whose position's own record is still queued (or could not be read) is recorded after it, in order.
    /// </summary>
    public void Defer(string description, Func<CancellationToken, Task> work)
    {
        Log.LedgerWriteDeferred(logger, description);
        Enqueue(new PendingWrite(description, work));
    }

    private void Enqueue(PendingWrite write)
    {
        Interlocked.Increment(ref _backlog);
        _pending.Writer.TryWrite(write);
    }

    /// <summary>
    /// The background loop: drains the queue in order, retrying each write until it lands. A write leaves the queue only
    /// once it has landed (or been refused), so one cut short by shutdown is still there for <see cref="FlushAsync"/>.
    /// </summary>
    public async Task DrainAsync(CancellationToken stoppingToken)
    {
        Draining.Value = true;
        while (await _pending.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            if (!_pending.Reader.TryPeek(out var write))
            {
                continue;
            }

            var delay = options.Value.LedgerWriteRetryDelay;
            while (true)
            {
                try
                {
                    await write.Run(stoppingToken).ConfigureAwait(false);
                    Landed(write);
                    break;
                }
                catch (RpcException ex) when (IsTransient(ex))
                {
                    Interlocked.Increment(ref _drainFailures);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = Backoff.Doubled(delay, options.Value.LedgerWriteRetryMaxDelay);
                }
                catch (RpcException ex)
                {
                    // A permanent refusal (the Ledger already holds a different record under the key): nothing to retry.
                    _pending.Reader.TryRead(out _);
                    Interlocked.Decrement(ref _backlog);
                    Log.LedgerWriteRefused(logger, ex, write.Description, ex.StatusCode);
                    break;
                }
                catch (Exception ex) when (IsRefusedForGood(ex) && !stoppingToken.IsCancellationRequested)
                {
                    // The venue refused a read outright, or the write is one the domain or our own validation refuses (a
                    // figure that can never be right): retrying would fail again and hold up every write behind it.
                    _pending.Reader.TryRead(out _);
                    Interlocked.Decrement(ref _backlog);
                    Log.LedgerWriteAbandoned(logger, ex, write.Description);
                    break;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A deferred write also reads the venue (its fills): a venue failure waits and retries like a Ledger
                    // one. Nothing may end this loop early: the writes behind would never land.
                    Log.LedgerWriteRetryAfterError(logger, ex, write.Description);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = Backoff.Doubled(delay, options.Value.LedgerWriteRetryMaxDelay);
                }
            }
        }
    }

    /// <summary>
    /// At shutdown: the queued writes once more, in order, within <paramref name="grace"/> (the Ledger may be back by now,
    /// or be coming back: a write it does not take yet is tried again with a short back-off until the grace is over).
    /// Whatever is left is logged write by write as an error: the queue lives in memory, and on the next start
    /// reconciliation adopts those positions from the venue, with the venue's fills where they account for them.
    /// </summary>
    public async Task FlushAsync(CancellationToken grace)
    {
        Draining.Value = true;
        var backoff = FlushFirstBackoff;
        while (_pending.Reader.TryPeek(out var write))
        {
            try
            {
                await write.Run(grace).ConfigureAwait(false);
                Landed(write);
                backoff = FlushFirstBackoff;
            }
            catch (RpcException ex) when (!IsTransient(ex) && !grace.IsCancellationRequested)
            {
                // Refused for good: as in the loop, drop it and go on with the rest.
                _pending.Reader.TryRead(out _);
                Interlocked.Decrement(ref _backlog);
                Log.LedgerWriteRefused(logger, ex, write.Description, ex.StatusCode);
            }
            catch (Exception ex) when (IsRefusedForGood(ex) && !grace.IsCancellationRequested)
            {
                // As in the loop: a write the venue or the domain refuses would fail again; the writes behind it go on.
                _pending.Reader.TryRead(out _);
                Interlocked.Decrement(ref _backlog);
                Log.LedgerWriteAbandoned(logger, ex, write.Description);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !grace.IsCancellationRequested)
            {
                // Still not answering (a Ledger starting again refuses connections for a moment): the same write again
                // after a pause, the rest waiting behind it. Before, one failed attempt gave up on every write queued.
                Log.LedgerWriteRetryingAtShutdown(logger, ex, write.Description, backoff);
                try
                {
                    await Task.Delay(backoff, grace).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = Backoff.Doubled(backoff, FlushLongestBackoff);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Out of time: the rest waits behind it, so stop here.
                break;
            }
        }

        while (_pending.Reader.TryRead(out var lost))
        {
            Interlocked.Decrement(ref _backlog);
            Log.LedgerWriteLostAtShutdown(logger, lost.Description);
        }
    }

    private void Landed(PendingWrite write)
    {
        _pending.Reader.TryRead(out _);
        Interlocked.Decrement(ref _backlog);
        Log.LedgerWriteLanded(logger, write.Description);
    }

    private long _drainFailures;

    /// <summary>How many times the background loop found the Ledger not answering (each followed by its retry delay).</summary>
    public long DrainFailures => Interlocked.Read(ref _drainFailures);

    private static readonly TimeSpan FlushFirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FlushLongestBackoff = TimeSpan.FromSeconds(1);

    public static bool IsTransient(RpcException ex) => GrpcStatuses.IsTransient(ex);

    /// <summary>
    /// The venue refused a read for the request itself (an unknown symbol or order: not its rate, load, clock or
    /// credentials, which <see cref="Binance.Errors.BinanceErrors.MayPassLater"/> names and which are retried like an
    /// outage), or the write is one the domain or our own validation refuses (a figure that can never be right): trying
    /// it again would fail again. A -1021 that outlived the client's re-sync dropped the write here, and with it a fill.
    /// </summary>
    private static bool IsRefusedForGood(Exception ex) =>
        ex is Binance.Errors.BinanceApiException { Code: var code } ? !Binance.Errors.BinanceErrors.MayPassLater(code)
            : ex is Domain.DomainException or RequestValidationException;

    private sealed record PendingWrite(string Description, Func<CancellationToken, Task> Run);
}

/// <summary>Runs <see cref="LedgerWrites.DrainAsync"/> for the life of the service.</summary>
public sealed class LedgerWriteDrainer(LedgerWrites writes) : BackgroundService
{
    /// <summary>How long shutdown waits for queued writes (within the host's own shutdown timeout).</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await writes.DrainAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (stoppingToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            // Stopping: whatever cut the loop short, what is queued still gets its last attempt below.
        }

        using var grace = new CancellationTokenSource(ShutdownGrace);
        await writes.FlushAsync(grace.Token).ConfigureAwait(false);
    }
}
