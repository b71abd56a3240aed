using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Options;

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

    /// <summary>Runs <paramref name="write"/> until it lands or the inline budget is spent; null when it was queued.</summary>
    public async Task<T?> WriteAsync<T>(string description, Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
        where T : class
    {
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
                    Interlocked.Increment(ref _backlog);
                    _pending.Writer.TryWrite(new PendingWrite(description, async ct => await write(ct).ConfigureAwait(false)));
                    return null;
                }

                Log.LedgerWriteRetry(logger, description, attempt, ex.StatusCode);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }
    }

    /// <summary>The background loop: drains the queue, retrying each write until it lands.</summary>
    public async Task DrainAsync(CancellationToken stoppingToken)
    {
        await foreach (var write in _pending.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var delay = TimeSpan.FromMilliseconds(200);
            while (true)
            {
                try
                {
                    await write.Run(stoppingToken).ConfigureAwait(false);
                    Interlocked.Decrement(ref _backlog);
                    Log.LedgerWriteLanded(logger, write.Description);
                    break;
                }
                catch (RpcException ex) when (IsTransient(ex))
                {
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                }
                catch (RpcException ex)
                {
                    // A permanent refusal (the Ledger already holds a different record under the key): nothing to retry.
                    Interlocked.Decrement(ref _backlog);
                    Log.LedgerWriteRefused(logger, ex, write.Description, ex.StatusCode);
                    break;
                }
            }
        }
    }

    public static bool IsTransient(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
            or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled;

    private sealed record PendingWrite(string Description, Func<CancellationToken, Task> Run);
}

/// <summary>Runs <see cref="LedgerWrites.DrainAsync"/> for the life of the service.</summary>
public sealed class LedgerWriteDrainer(LedgerWrites writes) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await writes.DrainAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
