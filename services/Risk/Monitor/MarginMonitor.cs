using MassTransit;
using Microsoft.Extensions.Options;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.Checks;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Options;
using TradeEngine.Risk.State;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Monitor;

/// <summary>
/// Every <see cref="MarginMonitorOptions.IntervalSeconds"/>: reads the account, evaluates margin health, daily loss
/// and drawdown, writes a PnL snapshot to the Ledger, and raises <see cref="MarginAlertRaised"/> when the margin
/// state changes into Reduce or LiquidateAll: one alert per change, not per tick, and not again for a ratio that only
/// hovers at the boundary (<see cref="RecoveryBand"/>). LiquidateAll, a daily-loss breach
/// and a drawdown breach each latch the kill switch. A latch the Ledger does not take is owed by
/// <see cref="KillSwitchService.LatchAsync"/> (on in this process at once, written in the background until it lands,
/// across midnight too: the switch is a latch, on until an operator resets it, as if the Ledger had taken it in time);
/// one the call could not even hand over (the monitor stopping) is retried each tick (a daily-loss one only within its
/// UTC day). Each alert, and each return to Ok after one, is recorded in the Ledger (<see cref="MarginEpisodeLog"/>), and a
/// restarted monitor reads the record back before its first alert: an episode still open has its alert published again
/// under the same event id, which the consumers' inbox takes as done.
/// </summary>
public sealed partial class MarginMonitor(
    IAccountSource accounts,
    RiskStateCache cache,
    KillSwitchService killSwitch,
    PreTradeEvaluator evaluator,
    ITransferCheck transfers,
    LedgerService.LedgerServiceClient ledger,
    IMarginAlertPublisher alerts,
    TimeProvider time,
    IOptions<RiskOptions> options,
    ILogger<MarginMonitor> logger) : BackgroundService
{
    /// <summary>
    /// How far above the Reduce boundary (1 + buffer) the margin ratio must climb before the account counts as recovered.
    /// Without it a mark hovering at the boundary goes Reduce, Ok, Reduce, ... from tick to tick, and every return to
    /// Reduce raised a new alert (a new event id), so Execution halved the largest position again before the first halving
    /// had shown in the account. 0.05 is a third of the hard buffer. In price terms that is small: the ratio moves by
    /// 1 / maintenance rate per unit of relative price, so at BTC's first bracket (0.4%) 0.05 is a 0.02% move of the
    /// mark. It absorbs tick-size jitter at the boundary, not a market swinging across it.
    /// </summary>
    public const decimal RecoveryBand = 0.05m;

    private MarginAction _last = MarginAction.Ok;

    /// <summary>
    /// The event id of an alert whose publish failed, kept for the state it was raised for: the next tick's alert for
    /// that state carries it again, so a publish that reached the broker but failed to confirm is deduplicated by the
    /// consumers' inbox instead of acted on twice (a position halved twice).
    /// </summary>
    private (MarginAction Action, Guid EventId)? _unconfirmed;

    /// <summary>
    /// A kill-switch latch this monitor owes (LiquidateAll, a daily-loss or drawdown breach) that has not landed yet (the
    /// Ledger did not answer, or refused): retried every tick, even after the account is back to Ok (Execution flattened
    /// it, or the loss was made good), until the switch is on. The first cause is kept.
    /// </summary>
    private (string Trigger, string Reason, string Metric, string Limit, DateOnly Day)? _pendingLatch;

    private readonly MarginEpisodeLog _episodes = new(ledger);

    /// <summary>
    /// Whether the Ledger's record of the last episode has been read (<see cref="ResumeEpisodeAsync"/>): tried each tick
    /// until it is, or until this process raises an alert without it (de-risking beats silence).
    /// </summary>
    private bool _episodeRead;

    /// <summary>
    /// The event id of the alert of the episode under way (raised here, or found open in the Ledger at start): its
    /// recovery is recorded when the state is Ok again, retried each tick while it is.
    /// </summary>
    private Guid? _openEpisode;

    /// <summary>The event id whose alert is recorded in the Ledger: an alert raised again under it is not recorded twice.</summary>
    private Guid? _recorded;

    /// <summary>
    /// The record of the current episode's alert while it has not landed (the Ledger down, or past the call's deadline when
    /// the alert was raised): owed, and written again at the end of each later tick, after that tick's alert if any, until it
    /// lands. Without it an alert that went out unrecorded left a restarted monitor nothing to resume: it raised the episode
    /// again under a new id, and Execution halved the largest position a second time. A recovery is recorded only after it
    /// (the Ledger's newest record is then the recovery, not an alert landing after it); a later alert replaces it (its
    /// record is the newest that counts).
    /// </summary>
    private OwedAlertRecord? _owedRecord;

    /// <summary>Whether this tick has tried the owed record already: a Ledger that hangs costs one call's deadline a tick.</summary>
    private bool _owedTried;

    /// <summary>
    /// An episode resumed from the Ledger at start whose alert is still to be published again under its event id (once,
    /// when the account is in that state by its own ratio, not only held there by the band): the first process may have
    /// recorded it and stopped before publishing it.
    /// </summary>
    private bool _republish;

    /// <summary>
    /// When this monitor was made (with the host's other services, before the server takes calls): the account must have
    /// been watched (a PnL snapshot) within <see cref="ResumeWindow"/> before it for an open episode to be resumed, so
    /// this process's own snapshots (its ticks, its pre-trade checks) never count, however many ticks fail first.
    /// </summary>
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    /// <summary>
    /// Whether a tick of this process has seen the account clear of the recovery band (or flat): the episode found in the
    /// Ledger afterwards is over, and is not resumed (its recovery is recorded).
    /// </summary>
    private bool _sawClear;

    /// <summary>The margin state of the last tick (for health and tests).</summary>
    public MarginAction LastAction => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.MarginMonitor.IntervalSeconds), time);
        do
        {
            try
            {
                await TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The next tick tries again; an account that cannot be read raises no alert and changes no state.
                LogTickFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        _owedTried = false;
        await StepAsync(cancellationToken).ConfigureAwait(false);
        if (_owedRecord is not null && !_owedTried)
        {
            // After the tick's alert, never before it: the record is owed, the alert is not delayed for it.
            await RecordOwedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        // Stamped before the account is read, not after: the snapshot's time places it against the venue's transfers
        // (the Ledger counts a transfer at or before a snapshot's time as in its equity). A withdrawal landing during the
        // read, stamped after it, counted as before a balance that did not have it yet: that snapshot stood in today's
        // money as a peak the withdrawal's size too high, and drawdown was measured from it for good.
        var now = time.GetUtcNow();
        var account = await accounts.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        var limits = evaluator.Limits;
        var health = MarginHealth.Evaluate(account.WalletBalance, account.UnrealizedPnl, account.MaintenanceMargin, limits.LiquidationBuffer);

        // The Ledger being down must not silence a margin alert: its parts are best effort, the alert is not.
        var state = await TryAsync(() => cache.GetAsync(cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        if (state is not null)
        {
            await TryAsync(() => SnapshotAsync(account, state, health, now, cancellationToken), cancellationToken).ConfigureAwait(false);
            cache.ObserveEquity(account.Equity);
            if (CheckLossLimits(account, state, limits, now))
            {
                // The venue's transfers are booked and the breach judged again on a read of the Ledger made after that,
                // whoever booked them (a withdrawal is no loss). A reload that fails leaves the breach as measured (fail
                // closed).
                await transfers.BookNowAsync(cancellationToken).ConfigureAwait(false);
                if (await TryAsync(() => cache.RefreshAfterNowAsync(cancellationToken), cancellationToken).ConfigureAwait(false) is { } reloaded)
                {
                    _pendingLatch = null;
                    state = reloaded;
                    CheckLossLimits(account, state, limits, now);
                }
            }

            await LatchPendingAsync(state, cancellationToken).ConfigureAwait(false);
        }

        if (!_episodeRead)
        {
            // Before the damping: a resumed Reduce episode is the state this tick moves from (its band).
            await ResumeEpisodeAsync(_startedAt, cancellationToken).ConfigureAwait(false);
        }

        if (health.Ratio is not { } clearRatio || clearRatio >= 1m + limits.LiquidationBuffer + RecoveryBand)
        {
            _sawClear = true;
        }

        var action = Damped(health.Action, health.Ratio, limits.LiquidationBuffer);
        if (_unconfirmed is { } unconfirmed && unconfirmed.Action != action)
        {
            // The state the unconfirmed alert was raised for is over: a later episode of it is a new alert, with an id of
            // its own (the consumers took the old id once, and would take a new alert under it as done).
            _unconfirmed = null;
        }

        if (action == MarginAction.Ok && _openEpisode is { } open && await RecordOwedAsync(cancellationToken).ConfigureAwait(false))
        {
            // The alert's record first (when still owed), then its recovery: in that order, or not this tick.
            await TryAsync(async () =>
            {
                var ratio = Wire.Format(RecordedRatio(health.Ratio));
                var reason = health.Ratio is null ? "No positions: back to Ok" : $"Margin ratio {ratio} clear of the Reduce boundary and its band: back to Ok";
                await _episodes.LogRecoveredAsync(open, reason, ratio, Wire.Format(1m + limits.LiquidationBuffer + RecoveryBand), now, cancellationToken).ConfigureAwait(false);
                _openEpisode = null;
            }, cancellationToken).ConfigureAwait(false);
        }

        if (_republish)
        {
            if (action != _last)
            {
                // The resumed episode is over (Ok) or another began: the usual path below.
                _republish = false;
            }
            else if (health.Action == action && action is MarginAction.Reduce or MarginAction.LiquidateAll)
            {
                // Published again under the resumed alert's event id (kept as the unconfirmed one): the consumers' inbox
                // takes it as done if the first process's went out, and acts on it if it did not. Only a published alert
                // clears it: a failed publish is tried again next tick.
                LogEpisodeRepublished(logger, action, _unconfirmed?.EventId ?? Guid.Empty);
                await RaiseAsync(account, state, health, now, cancellationToken).ConfigureAwait(false);
                _republish = false;
                return;
            }
        }

        if (action == _last)
        {
            return;
        }

        LogStateChanged(logger, _last, action, Wire.Format(health.Ratio));
        if (action is MarginAction.Reduce or MarginAction.LiquidateAll)
        {
            if (!_episodeRead)
            {
                // The Ledger could not be read: the alert goes out under a new id rather than not at all.
                LogEpisodeUnread(logger, action);
                _episodeRead = true;
            }

            // Only a published alert moves the state on: if publishing fails, the next tick raises it again.
            await RaiseAsync(account, state, health, now, cancellationToken).ConfigureAwait(false);
        }

        _last = action;
    }

    /// <summary>
    /// The state this tick moves to. Worse states are entered at once; a milder one only once the ratio is clear of the
    /// band above the Reduce boundary (<see cref="RecoveryBand"/>), or the account holds nothing. From LiquidateAll the
    /// way back is to Ok, never to Reduce: halving a position the flattening is already closing would only race it.
    /// </summary>
    private MarginAction Damped(MarginAction current, decimal? ratio, decimal buffer)
    {
        if (_last == MarginAction.Ok || current == _last || current == MarginAction.LiquidateAll)
        {
            return current;
        }

        if (current == MarginAction.Reduce)
        {
            // Only reached from LiquidateAll.
            return _last;
        }

        return ratio is { } r && r < 1m + buffer + RecoveryBand ? _last : MarginAction.Ok;
    }

    private async Task RaiseAsync(AccountView account, RiskState? state, MarginHealthResult health, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var liquidate = health.Action == MarginAction.LiquidateAll;
        var ratio = Wire.Format(RecordedRatio(health.Ratio));
        var reason = liquidate
            ? $"Margin ratio {ratio} at or below 1: flatten everything"
            : $"Margin ratio {ratio} below 1 + buffer {Wire.Format(evaluator.Limits.LiquidationBuffer)}: reduce the largest position by half";
        Task? latch = null;
        if (liquidate)
        {
            // Owed, and under way, before the alert is published, not after: a broker that refuses the alert (down,
            // confirms lost) threw out of here before the latch, on every tick, and a venue liquidation that then flattened
            // the account left the switch off. The switch goes through the Ledger, not the broker; the alert does not wait
            // for the Ledger's calls. It replaces a loss-limit latch still owed: either turns the switch on, and this is
            // the graver cause.
            _pendingLatch = (KillSwitchTriggers.LiquidateAll, reason, ratio, "1", DayOf(now));
            if (state is not null)
            {
                latch = LatchPendingAsync(state, cancellationToken);
            }
        }

        var eventId = _unconfirmed is { } kept && kept.Action == health.Action ? kept.EventId : NewId.NextGuid();
        _unconfirmed = (health.Action, eventId);
        _openEpisode = eventId;
        if (_recorded != eventId)
        {
            // Recorded before it is published: a monitor that stops between the two leaves the record a restarted one
            // resumes the episode from (the alert under the same id: acted on if it never went out, dropped if it did).
            // Owed until it lands; an alert raised again under the same id keeps its first record.
            if (_owedRecord?.EventId != eventId)
            {
                _owedRecord = new OwedAlertRecord(health.Action, eventId, reason, ratio,
                    liquidate ? "1" : Wire.Format(1m + evaluator.Limits.LiquidationBuffer), now);
            }

            await RecordOwedAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await alerts.PublishAsync(new MarginAlertRaised(
                eventId, now, liquidate ? MarginAlertAction.LiquidateAll : MarginAlertAction.Reduce,
                health.Ratio, account.Equity, account.MaintenanceMargin, reason), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (latch is not null)
            {
                await latch.ConfigureAwait(false);
            }
        }

        _unconfirmed = null;
        LogAlert(logger, health.Action, ratio);
    }

    /// <summary>Writes the owed alert record, if any; true when none is owed (any more).</summary>
    private async Task<bool> RecordOwedAsync(CancellationToken cancellationToken)
    {
        if (_owedRecord is not { } owed)
        {
            return true;
        }

        _owedTried = true;
        await TryAsync(async () =>
        {
            await _episodes.LogAlertAsync(owed.Action, owed.EventId, owed.Reason, owed.Ratio, owed.Limit, owed.OccurredAt, cancellationToken).ConfigureAwait(false);
            _recorded = owed.EventId;
            _owedRecord = null;
        }, cancellationToken).ConfigureAwait(false);
        return _owedRecord is null;
    }

    /// <summary>
    /// Reads the Ledger's record of the last episode (before this process's first alert; tried each tick until it is read).
    /// An alert not followed by a recovery is resumed only when the account was watched until a moment before this
    /// process started (a PnL snapshot within <see cref="ResumeWindow"/> before <paramref name="startedAt"/>) and no tick of
    /// this process has seen the account clear of the band: then the episode went on until the restart, and this monitor
    /// continues it under the alert's event id instead of raising it again under a new one (Execution halved the largest
    /// position a second time). A Reduce episode also becomes the state this monitor moves from (its band applies) and its
    /// alert is published again once the ratio is in Reduce by itself; a LiquidateAll one is only kept as the unconfirmed
    /// alert, so the account at LiquidateAll publishes it again under its id (and latches the switch again), and at Reduce
    /// raises a Reduce alert (holding LiquidateAll would leave an account between the two boundaries with no alert and no
    /// latch if the first process stopped before either). Otherwise (unwatched for longer: the account may have recovered
    /// and fallen back unseen) it is not resumed: an alert then is a new one (under the old id it would be taken as done,
    /// and the account not de-risked), and a state Ok records the old episode's recovery.
    /// </summary>
    private async Task ResumeEpisodeAsync(DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        (MarginAction Action, Guid EventId, bool Watched)? open;
        try
        {
            // Before anything this process wrote (the Ledger keeps microseconds).
            open = await _episodes.ReadOpenAsync(startedAt - TimeSpan.FromMilliseconds(1), ResumeWindow, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(logger, ex.GetType().Name, ex.Message);
            return;
        }

        _episodeRead = true;
        if (open is not { } episode)
        {
            return;
        }

        _openEpisode = episode.EventId;
        _recorded = episode.EventId;
        if (episode.Watched && !_sawClear)
        {
            _unconfirmed = (episode.Action, episode.EventId);
            if (episode.Action == MarginAction.Reduce)
            {
                _last = MarginAction.Reduce;
                _republish = true;
            }

            LogEpisodeResumed(logger, episode.Action, episode.EventId);
        }
        else
        {
            LogEpisodeNotResumed(logger, episode.Action, episode.EventId);
        }
    }

    /// <summary>
    /// How recently before a start the account must have been watched for an open episode to be resumed: a restart's gap
    /// (a tick, the process's start), at least a minute.
    /// </summary>
    private TimeSpan ResumeWindow => TimeSpan.FromSeconds(Math.Max(60, 3 * options.Value.MarginMonitor.IntervalSeconds));

    private async Task LatchPendingAsync(RiskState state, CancellationToken cancellationToken)
    {
        if (_pendingLatch is not { } pending)
        {
            return;
        }

        if (state.KillSwitch.Active
            || (pending.Trigger == KillSwitchTriggers.DailyLoss && pending.Day != DayOf(time.GetUtcNow())))
        {
            // On, or a daily loss of a day that is over: the loss it measured no longer counts (a new day starts at 0),
            // and the switch would flatten every position for it.
            _pendingLatch = null;
            return;
        }

        await TryAsync(async () =>
        {
            await killSwitch.LatchAsync(pending.Trigger, pending.Reason, pending.Metric, pending.Limit, cancellationToken).ConfigureAwait(false);
            _pendingLatch = null;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T?> TryAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(logger, ex.GetType().Name, ex.Message);
            return null;
        }
    }

    private async Task TryAsync(Func<Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    /// <summary>
    /// A daily-loss or drawdown breach becomes the latch this monitor owes (<see cref="LatchPendingAsync"/> makes it).
    /// True when this call found a new breach.
    /// </summary>
    private bool CheckLossLimits(AccountView account, RiskState state, RiskLimits limits, DateTimeOffset now)
    {
        if (state.KillSwitch.Active || _pendingLatch is not null)
        {
            return false;
        }

        var dailyLoss = EquityMath.DailyLoss(state.DayStartEquity ?? account.Equity, account.Equity);
        var drawdown = EquityMath.Drawdown(Math.Max(state.PeakEquity ?? account.Equity, account.Equity), account.Equity);
        if (dailyLoss > limits.DailyLossLimit)
        {
            _pendingLatch = (KillSwitchTriggers.DailyLoss, $"Daily loss {Wire.Format(dailyLoss)} above the limit {Wire.Format(limits.DailyLossLimit)}",
                Wire.Format(dailyLoss), Wire.Format(limits.DailyLossLimit), DayOf(now));
        }
        else if (drawdown > limits.MaxDrawdown)
        {
            _pendingLatch = (KillSwitchTriggers.Drawdown, $"Drawdown {Wire.Format(drawdown)} above the limit {Wire.Format(limits.MaxDrawdown)}",
                Wire.Format(drawdown), Wire.Format(limits.MaxDrawdown), DayOf(now));
        }

        return _pendingLatch is not null;
    }

    /// <summary>The UTC day of <paramref name="instant"/>: the day a daily loss is measured in.</summary>
    private static DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(instant.UtcDateTime);

    private Task SnapshotAsync(AccountView account, RiskState state, MarginHealthResult health, DateTimeOffset now, CancellationToken cancellationToken) =>
        LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(
            EquityBaseline.Snapshot("risk:pnl:", account, state, RecordedRatio(health.Ratio), now), cancellationToken: cancellationToken).ResponseAsync);

    /// <summary>
    /// The ratio as the Ledger records it: 8 decimals (its money precision), half to even, never negative. Domain keeps
    /// the exact ratio for decisions; this is only the figure written down.
    /// </summary>
    private static decimal? RecordedRatio(decimal? ratio) =>
        ratio is { } r ? Math.Max(0m, Math.Round(r, 8, MidpointRounding.ToEven)) : null;

    /// <summary>An alert's record as it was first written: a retry carries the same payload (its key is the event id's).</summary>
    private sealed record OwedAlertRecord(MarginAction Action, Guid EventId, string Reason, string Ratio, string Limit, DateTimeOffset OccurredAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin monitor tick failed: {ErrorType}: {Error}")]
    private static partial void LogTickFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin monitor step failed: {ErrorType}: {Error}")]
    private static partial void LogStepFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin state {Previous} -> {Current} (ratio {Ratio})")]
    private static partial void LogStateChanged(ILogger logger, MarginAction previous, MarginAction current, string ratio);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin episode {Action} (alert {EventId}) resumed from the Ledger: the account was watched until a moment ago")]
    private static partial void LogEpisodeResumed(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin episode {Action} (alert {EventId}) found open in the Ledger but not resumed: the account went unwatched too long before this start, or this process saw it clear of the band; an alert now is a new one")]
    private static partial void LogEpisodeNotResumed(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin alert {Action} published again under the resumed episode's event id {EventId}")]
    private static partial void LogEpisodeRepublished(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin episode record could not be read from the Ledger: {Action} alert raised under a new event id (a restart during an episode may act on it twice)")]
    private static partial void LogEpisodeUnread(ILogger logger, MarginAction action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert raised: {Action} (ratio {Ratio})")]
    private static partial void LogAlert(ILogger logger, MarginAction action, string ratio);
}
