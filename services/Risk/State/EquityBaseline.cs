using System.Globalization;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.Risk.Mapping;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.State;

/// <summary>
/// Day-start and peak equity come from the Ledger's PnL snapshots, which the margin monitor writes. With no snapshot at
/// all (a new Ledger, or the monitor switched off or without an account source) both would default to the equity
/// being judged, and the daily-loss and drawdown limits could never be breached. So the first check that finds no
/// snapshot writes one from the account it judges, and every later check measures loss and drawdown from there: the
/// limits cannot be configured away. For the same reason checks keep both figures current without the monitor: the
/// first check of each UTC day writes its account (<see cref="ObserveDayAsync"/>), and a check that sees a new high
/// writes it (<see cref="RecordPeakAsync"/>).
/// </summary>
public sealed partial class EquityBaseline(
    LedgerService.LedgerServiceClient ledger, RiskStateCache cache, IRiskStateSource source, TimeProvider time, ILogger<EquityBaseline> logger)
{
    // Checks that arrive together before the first snapshot anchor once: the rest find it on their re-read.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // How long the day's observation may take (write and reload), and how long after a failed one the next is tried.
    private static readonly TimeSpan ObserveTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ObserveRetry = TimeSpan.FromSeconds(30);

    private readonly Lock _observeLock = new();

    // The UTC day (DateOnly.DayNumber) this process last wrote an observation for; -1 before the first.
    private int _observedDay = -1;
    private int _observingDay = -1;
    private Task<RiskState?>? _observing;
    private DateTimeOffset _observeRetryAt = DateTimeOffset.MinValue;

    public static bool IsMissing(RiskState state) => state.DayStartEquity is null || state.PeakEquity is null;

    /// <summary>Writes the anchoring snapshot and returns the state read back after it.</summary>
    public async Task<RiskState> AnchorAsync(AccountView account, RiskState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await cache.RefreshAsync(cancellationToken).ConfigureAwait(false);
            if (!IsMissing(current))
            {
                return current;
            }

            var anchored = await WriteAnchorAsync(account, current, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _observedDay, anchored.Day.DayNumber);
            return anchored;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether this process has written an observation of the account for the state's UTC day.</summary>
    public bool ObservedOn(RiskState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Volatile.Read(ref _observedDay) == state.Day.DayNumber;
    }

    /// <summary>
    /// The first check of a UTC day writes the account it judges as a PnL snapshot, and reads the state again. The day's
    /// start equity is the last snapshot at or before midnight, or the day's first when that one is more than a day old
    /// (the Ledger's GetDailyPnl). With the margin monitor on there is always a recent one; with it off, the last one
    /// could be days old, and the day's loss would be measured from a stale equity (from 10,000 three days ago rather
    /// than today's 11,000, hiding a 600 loss). Once per day per process: cheap, and harmless twice.
    /// </summary>
    /// <remarks>
    /// Best effort, never a reason to refuse: checks that arrive meanwhile share the one attempt, which waits at most
    /// <see cref="ObserveTimeout"/>; if the Ledger does not take it, the check decides on the state it has (as it did
    /// before this observation existed) and the next attempt is made after <see cref="ObserveRetry"/>.
    /// </remarks>
    public async Task<RiskState> ObserveDayAsync(AccountView account, RiskState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        Task<RiskState?> attempt;
        lock (_observeLock)
        {
            if (ObservedOn(state) || time.GetUtcNow() < _observeRetryAt || !source.RecordsObservations)
            {
                return state;
            }

            if (_observing is null || _observingDay != state.Day.DayNumber)
            {
                _observingDay = state.Day.DayNumber;
                // Run outside the lock: a failure that completed synchronously would otherwise clear _observing
                // before this assignment, and the failed attempt would stand for the rest of the day.
                _observing = Task.Run(() => ObserveAsync(account, state));
            }

            attempt = _observing;
        }

        return await attempt.WaitAsync(cancellationToken).ConfigureAwait(false) ?? state;
    }

    private async Task<RiskState?> ObserveAsync(AccountView account, RiskState state)
    {
        try
        {
            using var timeout = new CancellationTokenSource(ObserveTimeout);
            try
            {
                await LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(
                    Snapshot("risk:pnl:day:", account, state, marginRatio: null, time.GetUtcNow()), cancellationToken: timeout.Token).ResponseAsync).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
            {
                // Another instance observed the account in the same millisecond: its snapshot serves.
            }

            // Twice: a load already running when the snapshot was written may not include it; the second starts after.
            await cache.RefreshAsync(timeout.Token).ConfigureAwait(false);
            var reloaded = await cache.RefreshAsync(timeout.Token).ConfigureAwait(false);
            Volatile.Write(ref _observedDay, state.Day.DayNumber);
            return IsMissing(reloaded) ? null : reloaded;
        }
        catch (Exception ex)
        {
            LogObservationFailed(logger, ex.GetType().Name, ex.Message, ObserveRetry);
            lock (_observeLock)
            {
                _observeRetryAt = time.GetUtcNow() + ObserveRetry;
                _observing = null;
            }

            return null;
        }
    }

    /// <summary>
    /// Records a new equity high seen by a check: in the cache at once (the check itself already judges drawdown from
    /// the higher of the two), and as a PnL snapshot written in the background so that the peak survives a restart.
    /// The margin monitor snapshots the account every few seconds; a check may still see a high between two ticks, and
    /// with the monitor off (or without an account source) checks are the only observations of the account: without
    /// this the peak would stay at the anchor and drawdown from any later high would go unmeasured. The write never
    /// delays or fails the check; if the Ledger does not take it, the warning says so and the cache keeps the high.
    /// </summary>
    public void RecordPeak(AccountView account, RiskState state)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        cache.ObserveEquity(account.Equity);
        if (!source.RecordsObservations)
        {
            return;
        }

        // The equity is part of the key: two highs seen in the same millisecond are both kept, the higher included.
        var snapshot = Snapshot("risk:pnl:peak:", account, state, marginRatio: null, time.GetUtcNow());
        snapshot.IdempotencyKey += ":" + Wire.Format(account.Equity);
        _ = Task.Run(async () =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(snapshot, cancellationToken: timeout.Token).ResponseAsync).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
            {
                // Another check recorded the same high in the same millisecond: its snapshot is as good.
            }
            catch (Exception ex)
            {
                LogPeakNotRecorded(logger, account.Equity, ex.GetType().Name, ex.Message);
            }
        });
    }

    private async Task<RiskState> WriteAnchorAsync(AccountView account, RiskState state, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        try
        {
            await LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(
                Snapshot("risk:pnl:anchor:", account, state, marginRatio: null, now), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
            LogAnchored(logger, account.Equity);
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
        {
            // Another Risk instance anchored in the same millisecond: its snapshot serves.
        }

        // Twice, as ObserveDayAsync does: a load the refresher began before the snapshot was written may be shared by the
        // first refresh and not include it; the second starts after the write.
        await cache.RefreshAsync(cancellationToken).ConfigureAwait(false);
        var reloaded = await cache.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return IsMissing(reloaded)
            ? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable,
                "The Ledger shows no day-start or peak equity after a PnL snapshot was written; retry"))
            : reloaded;
    }

    /// <summary>A PnL snapshot of <paramref name="account"/> at <paramref name="at"/>, keyed by its prefix and the instant.</summary>
    public static LogPnlSnapshotRequest Snapshot(string keyPrefix, AccountView account, RiskState state, decimal? marginRatio, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        return new LogPnlSnapshotRequest
        {
            IdempotencyKey = keyPrefix + at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            Balance = Wire.Format(account.WalletBalance),
            UnrealizedPnl = Wire.Format(account.UnrealizedPnl),
            RealizedPnl = Wire.Format(state.RealizedPnlToday),
            TotalPnl = Wire.Format(state.RealizedPnlToday + account.UnrealizedPnl),
            Equity = Wire.Format(account.Equity),
            MarginRatio = Wire.Format(marginRatio),
            OpenPositions = account.Positions.Count,
            TakenAt = Wire.Timestamp(at),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No PnL snapshot in the Ledger: day-start and peak equity anchored at {Equity}, the equity of this check")]
    private static partial void LogAnchored(ILogger logger, decimal equity);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The day's first observation of the account could not be recorded ({ErrorType}: {Error}); checks go on with the day-start equity they have, next attempt in {Retry}")]
    private static partial void LogObservationFailed(ILogger logger, string errorType, string error, TimeSpan retry);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "A new equity high of {Equity} could not be recorded in the Ledger ({ErrorType}: {Error}); this process keeps it, a restart would not")]
    private static partial void LogPeakNotRecorded(ILogger logger, decimal equity, string errorType, string error);
}
