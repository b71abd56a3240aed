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
    LedgerService.LedgerServiceClient ledger, RiskStateCache cache, TimeProvider time, ILogger<EquityBaseline> logger)
{
    // Checks that arrive together before the first snapshot anchor once: the rest find it on their re-read.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // The UTC day (DateOnly.DayNumber) this process last wrote an observation for; -1 before the first.
    private int _observedDay = -1;

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
    /// start equity is the snapshot nearest to midnight (the Ledger's GetDailyPnl): with the margin monitor on, one from
    /// a few seconds either side; with it off, the last one could be days old, and the day's loss would be measured from
    /// a stale equity (from 10,000 three days ago rather than today's 11,000, hiding a 600 loss). This observation is then
    /// the day's start unless an older one is nearer to midnight. Once per day per process: cheap, and harmless twice.
    /// </summary>
    public async Task<RiskState> ObserveDayAsync(AccountView account, RiskState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ObservedOn(state))
            {
                return await cache.GetAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(
                    Snapshot("risk:pnl:day:", account, state, marginRatio: null, time.GetUtcNow()), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
            {
                // Another instance observed the account in the same millisecond: its snapshot serves.
            }

            var reloaded = await cache.RefreshAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _observedDay, state.Day.DayNumber);
            return IsMissing(reloaded)
                ? throw new InvalidOperationException("The Ledger shows no day-start or peak equity after a PnL snapshot was written.")
                : reloaded;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Records a new equity high seen by a check: in the cache at once, and as a PnL snapshot so that the peak survives a
    /// refresh from the Ledger and a restart. The margin monitor snapshots the account every few seconds; a check may
    /// still see a high between two ticks, and with the monitor off (or without an account source) checks are the only
    /// observations of the account: without this the peak would stay at the anchor and drawdown from any later high
    /// would go unmeasured.
    /// </summary>
    public async Task RecordPeakAsync(AccountView account, RiskState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(state);
        cache.ObserveEquity(account.Equity);
        try
        {
            // The equity is part of the key: two highs seen in the same millisecond are both kept, the higher included.
            var snapshot = Snapshot("risk:pnl:peak:", account, state, marginRatio: null, time.GetUtcNow());
            snapshot.IdempotencyKey += ":" + Wire.Format(account.Equity);
            await LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(snapshot, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
        {
            // Another check recorded the same high in the same millisecond: its snapshot is as good.
        }
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

        var reloaded = await cache.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return IsMissing(reloaded)
            ? throw new InvalidOperationException("The Ledger shows no day-start or peak equity after a PnL snapshot was written.")
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
}
