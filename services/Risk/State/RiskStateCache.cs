using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Risk.Options;

namespace TradeEngine.Risk.State;

/// <summary>
/// The Ledger's risk state kept in memory so that a pre-trade check is not a Ledger round trip (but for the day's first
/// observation of the account, EquityBaseline, which is bounded and never refuses). Refreshed
/// periodically (<see cref="RiskStateRefresher"/>), on every <c>KillSwitchTriggered</c> event, and after Risk
/// itself changes the kill switch. Fails closed: state that was never loaded, is older than
/// <see cref="RiskOptions.StateMaxAgeSeconds"/> or belongs to another UTC day is unknown, and a check then
/// answers UNAVAILABLE instead of guessing that the switch is off.
/// </summary>
public sealed partial class RiskStateCache(
    IRiskStateSource source,
    TimeProvider time,
    IOptions<RiskOptions> options,
    ILogger<RiskStateCache> logger)
{
    private readonly TimeSpan _maxAge = TimeSpan.FromSeconds(options.Value.StateMaxAgeSeconds);
    private readonly Lock _lock = new();
    private volatile RiskState? _state;
    private volatile KillSwitchView? _owed;
    private Task<RiskState>? _refreshing;
    private long _loadsStarted;
    private long _newestLoaded;

    /// <summary>The last state loaded, with an owed latch (<see cref="Owe"/>) on top; null before the first load.</summary>
    public RiskState? Current => _state is { } state ? WithOwed(state) : null;

    /// <summary>
    /// A kill switch latch this process decided that the Ledger has not taken yet (KillSwitchService owes it and writes it
    /// in the background), or null once it has. Kept apart from the Ledger's state, not applied to it: loads and events
    /// replace that state and must not turn the switch off under a latch the Ledger never saw, whatever their timestamps.
    /// </summary>
    public void Owe(KillSwitchView? latch) => _owed = latch;

    /// <summary><paramref name="state"/> with the owed latch's switch when it has the switch off: a check decides on the switch as enforced.</summary>
    public RiskState WithOwed(RiskState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return _owed is { } owed && !state.KillSwitch.Active ? state with { KillSwitch = owed } : state;
    }

    /// <summary>The state if it is fresh enough to decide on; no I/O.</summary>
    public bool TryGetFresh(out RiskState state)
    {
        var current = _state;
        var now = time.GetUtcNow();
        if (current is not null && now - current.LoadedAt <= _maxAge && current.Day == DateOnly.FromDateTime(now.UtcDateTime))
        {
            state = WithOwed(current);
            return true;
        }

        state = null!;
        return false;
    }

    /// <summary>Fresh state, refreshing once if needed; UNAVAILABLE when the Ledger cannot give it.</summary>
    public async ValueTask<RiskState> GetAsync(CancellationToken cancellationToken)
    {
        if (TryGetFresh(out var state))
        {
            return state;
        }

        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRefreshFailed(logger, ex.GetType().Name, ex.Message);
        }

        return TryGetFresh(out state)
            ? state
            : throw new RpcException(new Status(
                StatusCode.Unavailable,
                "The kill switch, day-start and peak equity could not be read from the Ledger; refusing to decide (fail closed)."));
    }

    /// <summary>Reloads from the Ledger; concurrent callers share one request.</summary>
    public Task<RiskState> RefreshAsync(CancellationToken cancellationToken)
    {
        Task<RiskState> task;
        lock (_lock)
        {
            // A load still running is shared; a finished one is replaced. (Clearing the field from inside LoadAsync
            // would lose against the assignment here whenever the load completes synchronously, and stick forever.)
            if (_refreshing is not { IsCompleted: false })
            {
                _refreshing = LoadAsync();
            }

            task = _refreshing;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Applies a kill switch change Risk made or heard of, unless a newer one is already known.</summary>
    public void Apply(KillSwitchView killSwitch)
    {
        lock (_lock)
        {
            var current = _state;
            if (current is null)
            {
                return;
            }

            if (current.KillSwitch.ChangedAt is { } known && killSwitch.ChangedAt is { } incoming && incoming < known)
            {
                return;
            }

            _state = current with { KillSwitch = killSwitch };
        }
    }

    /// <summary>Raises the cached peak when equity reaches a new high (a PnL snapshot, the monitor's or a check's, makes it durable).</summary>
    public void ObserveEquity(decimal equity)
    {
        lock (_lock)
        {
            var current = _state;
            if (current is not null && (current.PeakEquity is null || equity > current.PeakEquity))
            {
                _state = current with { PeakEquity = equity };
            }
        }
    }

    /// <summary>
    /// Reloads from a read of the Ledger that starts after this call: a load already under way may have read before
    /// something this caller just made happen (Funding booking a transfer), and sharing it would judge on the figures from
    /// before. Waits for that load, then starts (or shares) a later one.
    /// </summary>
    public async Task<RiskState> RefreshAfterNowAsync(CancellationToken cancellationToken)
    {
        var needed = Interlocked.Read(ref _loadsStarted) + 1;
        while (true)
        {
            var state = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            if (Interlocked.Read(ref _newestLoaded) >= needed)
            {
                return state;
            }
        }
    }

    private async Task<RiskState> LoadAsync()
    {
        // Numbered when it starts (synchronously, under the caller's lock): RefreshAfterNowAsync tells a load that began
        // before its call from one that began after.
        var number = Interlocked.Increment(ref _loadsStarted);
        // Not the caller's token: a shared load must not die with the first caller that gives up.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var loaded = await source.LoadAsync(time.GetUtcNow(), timeout.Token).ConfigureAwait(false);
        lock (_lock)
        {
            // The load read the Ledger before it returned: a kill switch change applied meanwhile (by this service or
            // an event) is newer than what the load saw and must survive it, or a trigger could be undone for a tick.
            if (_state is { } current && IsNewer(current.KillSwitch, loaded.KillSwitch))
            {
                loaded = loaded with { KillSwitch = current.KillSwitch };
            }

            // The peak only rises: a high this process saw (EquityBaseline.RecordPeak) whose snapshot has not landed yet
            // is kept, not undone by a load that predates it. Unless a transfer was booked since: the Ledger's peak is then
            // in today's money and the high seen here is not (kept, a withdrawal booked would still read as drawdown). Told by
            // the count of transfers booked, which only grows: a deposit and a withdrawal of one amount leave the net as it was.
            if (_state is { PeakEquity: { } seen } previous && previous.TransfersBooked == loaded.TransfersBooked
                && (loaded.PeakEquity is null || seen > loaded.PeakEquity))
            {
                loaded = loaded with { PeakEquity = seen };
            }

            _state = loaded;
            if (number > _newestLoaded)
            {
                Interlocked.Exchange(ref _newestLoaded, number);
            }
        }

        return loaded;
    }

    private static bool IsNewer(KillSwitchView candidate, KillSwitchView than) =>
        candidate.ChangedAt is { } candidateAt && (than.ChangedAt is not { } thanAt || candidateAt > thanAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Risk state could not be refreshed from the Ledger: {ErrorType}: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string errorType, string error);
}
