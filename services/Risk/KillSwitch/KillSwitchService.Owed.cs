using Grpc.Core;
using TradeEngine.Risk.State;

namespace TradeEngine.Risk.KillSwitch;

/// <summary>
/// A latch the Ledger has not taken yet: the breach it is for was decided (and answered) while the Ledger could not be
/// written. Its key is fixed by the first attempt that reaches the Ledger's trigger, so every retry sends the same
/// request under the same key and the Ledger writes it once.
/// </summary>
public sealed class OwedLatch(string trigger, string reason, string? metric, string? limit, DateTimeOffset decidedAt)
{
    private string? _key;

    public string Trigger { get; } = trigger;

    public string Reason { get; } = reason;

    public string? Metric { get; } = metric;

    public string? Limit { get; } = limit;

    public DateTimeOffset DecidedAt { get; } = decidedAt;

    /// <summary>The switch as this process enforces it while the latch is owed: on, for this breach, since it was decided.</summary>
    public KillSwitchView View => new(true, Trigger, Reason, "risk", DecidedAt);

    /// <summary>The latch's key: <paramref name="candidate"/> unless an earlier attempt fixed one (then that one).</summary>
    public string FixKey(string candidate) => Interlocked.CompareExchange(ref _key, candidate, null) ?? candidate;

    /// <summary>Forgets <paramref name="key"/> (the Ledger refused it as another request's), so the next attempt keys afresh.</summary>
    public void ReleaseKey(string key) => Interlocked.CompareExchange(ref _key, null, key);

    /// <summary>The same breach, to be written afresh (a new key) after a reset that began before it was decided.</summary>
    public OwedLatch Again() => new(Trigger, Reason, Metric, Limit, DecidedAt);
}

/// <summary>The owed latch: kept on in memory (through <see cref="RiskStateCache.Owe"/>) and written in the background.</summary>
public sealed partial class KillSwitchService
{
    /// <summary>How long a check or the monitor waits for the Ledger to take a latch before answering and owing it.</summary>
    public static readonly TimeSpan InlineLatchTimeout = TimeSpan.FromSeconds(2);

    // Back-off between attempts at an owed latch: doubling from the first, capped, so a Ledger that is back is written to
    // within seconds and one that stays down is not hammered. Each attempt has its own deadline (no caller's to inherit).
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _owedLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private OwedLatch? _owed;
    private Task? _writer;

    // The latest breach any check or the monitor decided (written or not): a reset that began before it must not outlive it.
    private OwedLatch? _lastDecided;

    /// <summary>
    /// Notes <paramref name="latch"/> as the latest breach decided unless a later one is noted already: two deciding at once
    /// (the monitor and a check) may get here in either order, and a reset must compare with the latest.
    /// </summary>
    private void NoteDecided(OwedLatch latch)
    {
        while (true)
        {
            var noted = Volatile.Read(ref _lastDecided);
            if (noted is not null && noted.DecidedAt >= latch.DecidedAt)
            {
                return;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _lastDecided, latch, noted), noted))
            {
                return;
            }
        }
    }

    /// <summary>A reset the Ledger or Risk refused before anything was written (the operator key, a malformed request).</summary>
    private static bool RefusedBeforeWriting(Exception ex) =>
        ex is RpcException { StatusCode: StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.AlreadyExists };

    /// <summary>The owed latch's switch (on), or null when the Ledger has every latch this process decided.</summary>
    public KillSwitchView? Owed => OwedLatchNow?.View;

    private OwedLatch? OwedLatchNow
    {
        get
        {
            lock (_owedLock)
            {
                return _owed;
            }
        }
    }

    /// <summary>
    /// Owes <paramref name="latch"/> unless one is owed already (the first cause is kept), and starts the writer. Returns
    /// the switch as enforced from now: on.
    /// </summary>
    private KillSwitchView Owe(OwedLatch latch, string errorType, string error)
    {
        OwedLatch owed;
        lock (_owedLock)
        {
            _owed ??= latch;
            owed = _owed;
            cache.Owe(owed.View);
            if (_writer is null && !_stopping.IsCancellationRequested)
            {
                // Not the caller's context: the Ledger client propagates a gRPC call's deadline and cancellation, and the
                // writer outlives the call that owed the latch.
                using (ExecutionContext.SuppressFlow())
                {
                    _writer = Task.Run(WriteOwedAsync);
                }
            }
        }

        if (ReferenceEquals(owed, latch))
        {
            LogLatchOwed(logger, latch.Trigger, errorType, error);
        }

        return owed.View;
    }

    /// <summary>The Ledger has the switch on for <paramref name="latch"/> (or for an earlier cause): nothing more is owed for it.</summary>
    private bool Settle(OwedLatch latch)
    {
        lock (_owedLock)
        {
            if (!ReferenceEquals(_owed, latch))
            {
                return false;
            }

            _owed = null;
            cache.Owe(null);
        }

        LogLatchLanded(logger, latch.Trigger, time.GetUtcNow() - latch.DecidedAt);
        return true;
    }

    /// <summary>
    /// Writes the owed latch until the Ledger takes it, with back-off; then the next one, if any was owed meanwhile; then
    /// stops (under the lock, so a latch owed as it stops starts a new writer). A process that stops first loses what it
    /// owed, and says so (<see cref="Dispose"/>).
    /// </summary>
    private async Task WriteOwedAsync()
    {
        var delay = FirstRetry;
        var attempts = 0;
        while (true)
        {
            try
            {
                await Task.Delay(delay, time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: the check below clears the writer.
            }

            // Read after the wait: a reset may have written (and settled) the latch meanwhile, and must not see it
            // written again after it.
            OwedLatch? latch;
            lock (_owedLock)
            {
                latch = _owed;
                if (latch is null || _stopping.IsCancellationRequested)
                {
                    _writer = null;
                    return;
                }
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                attempt.CancelAfter(AttemptTimeout);
                attempts++;
                await WriteLatchAsync(latch, attempt.Token).ConfigureAwait(false);
                Settle(latch);
                delay = FirstRetry;
                attempts = 0;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Stopping: the loop's next turn clears the writer.
            }
            catch (Exception ex)
            {
                LogLatchRetryFailed(logger, latch.Trigger, attempts, ex.GetType().Name, ex.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetry.Ticks));
            }
        }
    }

    /// <summary>Stops the writer (the host is stopping). The token source is left undisposed: the writer may still read it.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        if (OwedLatchNow is { } owed)
        {
            LogLatchLost(logger, owed.Trigger, owed.DecidedAt);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Kill switch latch ({Trigger}) could not be written to the Ledger ({ErrorType}: {Error}): the denial was answered, the switch is kept on in this process and the latch is retried in the background")]
    private static partial void LogLatchOwed(ILogger logger, string trigger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kill switch latch ({Trigger}) still not written to the Ledger after {Attempts} attempts: {ErrorType}: {Error}")]
    private static partial void LogLatchRetryFailed(ILogger logger, string trigger, int attempts, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch latch ({Trigger}) owed to the Ledger has landed: the Ledger has the switch on, {Delay} after the breach")]
    private static partial void LogLatchLanded(ILogger logger, string trigger, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Risk stopped owing a kill switch latch ({Trigger}, decided at {DecidedAt}) the Ledger never took: the switch is off in the Ledger")]
    private static partial void LogLatchLost(ILogger logger, string trigger, DateTimeOffset decidedAt);
}
