using MassTransit;
using Microsoft.Extensions.Options;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
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
/// hovers at the boundary (<see cref="RecoveryBand"/>); Reduce again, under a new event id, while the ratio stays inside
/// the buffer once the largest position of the last Reduce alert has shrunk (<see cref="MarginEpisodeStep.ReduceAgain"/>). LiquidateAll, a daily-loss breach
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
    Instruments.RiskInstruments instruments,
    TimeProvider time,
    IOptions<RiskOptions> options,
    ILogger<MarginMonitor> logger) : BackgroundService
{
    /// <summary>The recovery band (<see cref="MarginEpisode.RecoveryBand"/>).</summary>
    public const decimal RecoveryBand = MarginEpisode.RecoveryBand;

    /// <summary>The episode state machine: what is due; this class does it.</summary>
    private readonly MarginEpisode _episode = new();

    private readonly MarginEpisodeLog _episodes = new(ledger);

    /// <summary>
    /// When this monitor was made (with the host's other services, before the server takes calls): the account must have
    /// been watched (a PnL snapshot) within <see cref="ResumeWindow"/> before it for an open episode to be resumed, so
    /// this process's own snapshots (its ticks, its pre-trade checks) never count, however many ticks fail first.
    /// </summary>
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    /// <summary>The margin state of the last tick (for health and tests).</summary>
    public MarginAction LastAction => _episode.Last;

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
        try
        {
            await StepAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // After the tick's alert, never before it: the record is owed, the alert is not delayed for it. Also after a
            // tick that failed (the account unreadable, a publish refused): the Ledger may answer when Execution does not.
            if (_episode.OwedRecord is not null && !_owedTried && !cancellationToken.IsCancellationRequested)
            {
                await RecordOwedAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        // Stamped before the account is read, not after: the snapshot's time places it against the venue's transfers
        // (the Ledger counts a transfer at or before a snapshot's time as in its equity). A withdrawal landing during the
        // read, stamped after it, counted as before a balance that did not have it yet: that snapshot stood in today's
        // money as a peak the withdrawal's size too high, and drawdown was measured from it for good.
        var now = time.GetUtcNow();
        // Watching for a margin call is urgent at the venue's limits: Execution's reads for this account (the priority
        // travels with the call) are held back only by the venue's own limits, never by our headroom; so is the tick's
        // ask to Funding to book transfers before a loss-limit latch (a withdrawal not booked would read as a loss).
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        var account = await accounts.GetAccountAsync(cancellationToken).ConfigureAwait(false);

        var limits = evaluator.Limits;
        var picture = await JudgeAsync(account, limits.LiquidationBuffer, cancellationToken).ConfigureAwait(false);
        var health = picture.Health;

        // The Ledger being down must not silence a margin alert: its parts are best effort, the alert is not.
        var state = await TryAsync(() => cache.GetAsync(cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        if (state is not null)
        {
            await TryAsync(() => SnapshotAsync(account, state, health, now, cancellationToken), cancellationToken).ConfigureAwait(false);
            cache.ObserveEquity(account.Equity);
            state = await JudgeLossLimitsAsync(account, state, limits, now, cancellationToken).ConfigureAwait(false);
        }
        else if (cache.Current is { } last && last.Day == DayOf(now))
        {
            // The Ledger's state could not be read and what this process holds is past its age: its day-start and peak are
            // still today's (the Ledger has not answered since, so nothing newer was written there), and a breach measured
            // against them is judged as on any tick: transfers booked first, then the latch, owed while the Ledger is down
            // (on in this process at once, written when it answers). With the Ledger down a transfer cannot be booked, so
            // a withdrawal made during the outage reads as a loss and latches (fail closed, as a check's breach does when
            // Funding cannot book). Before, the tick judged no loss limit at all until the Ledger was back, so a loss over
            // the limit that recovered during an outage was never latched.
            await JudgeLossLimitsAsync(account, last, limits, now, cancellationToken).ConfigureAwait(false);
        }

        if (!_episode.Read)
        {
            // Before the damping: a resumed Reduce episode is the state this tick moves from (its band).
            await ResumeEpisodeAsync(_startedAt, cancellationToken).ConfigureAwait(false);
        }

        var action = _episode.Observe(health.Action, health.Ratio, limits.LiquidationBuffer);
        if (action == MarginAction.Ok && _episode.Open is { } open && await RecordOwedAsync(cancellationToken).ConfigureAwait(false))
        {
            // The alert's record first (when still owed), then its recovery: in that order, or not this tick.
            await TryAsync(async () =>
            {
                var ratio = Wire.Format(RecordedRatio(health.Ratio));
                var reason = health.Ratio is null ? "No positions: back to Ok" : $"Margin ratio {ratio} clear of the Reduce boundary and its band: back to Ok";
                await _episodes.LogRecoveredAsync(open, reason, ratio, Wire.Format(1m + limits.LiquidationBuffer + RecoveryBand), now, cancellationToken).ConfigureAwait(false);
                _episode.RecoveryRecorded();
            }, cancellationToken).ConfigureAwait(false);
        }

        switch (_episode.Next(action, health.Action, symbol => Math.Abs(account.SizeOn(new Symbol(symbol)))))
        {
            case MarginEpisodeStep.ReduceAgain:
                // The position the last Reduce alert targeted has shrunk and the ratio is still inside the buffer: the plan
                // reduces again. A new alert (a new event id), raised and recorded like the first.
                LogReducingAgain(logger, Wire.Format(health.Ratio));
                await RaiseAsync(account, state, picture, now, cancellationToken).ConfigureAwait(false);
                return;
            case MarginEpisodeStep.Republish:
                // Published again under the resumed alert's event id (kept as the unconfirmed one): the consumers' inbox
                // takes it as done if the first process's went out, and acts on it if it did not. Only a published alert
                // clears it: a failed publish is tried again next tick.
                LogEpisodeRepublished(logger, action, _episode.KeptEventId(health.Action) ?? Guid.Empty);
                await RaiseAsync(account, state, picture, now, cancellationToken).ConfigureAwait(false);
                _episode.Republished();
                return;
            case MarginEpisodeStep.None when action == MarginAction.Reduce && health.Action == MarginAction.Reduce
                                             && picture.Symbol is { } isolated && _episode.Targeted is { } targeted && targeted != isolated:
                // Still in Reduce, now by an isolated position's own margin, while the last alert targeted another position
                // (the largest, or another isolated one): that position's alert goes out, or nothing would close it until
                // the other had shrunk.
                LogReducingAgain(logger, Wire.Format(health.Ratio));
                await RaiseAsync(account, state, picture, now, cancellationToken).ConfigureAwait(false);
                return;
            case MarginEpisodeStep.None:
                return;
        }

        LogStateChanged(logger, _episode.Last, action, Wire.Format(health.Ratio));
        if (action is MarginAction.Reduce or MarginAction.LiquidateAll)
        {
            if (_episode.GiveUpRead())
            {
                // The Ledger could not be read: the alert goes out under a new id rather than not at all.
                LogEpisodeUnread(logger, action);
            }

            // Only a published alert moves the state on: if publishing fails, the next tick raises it again.
            await RaiseAsync(account, state, picture, now, cancellationToken).ConfigureAwait(false);
        }

        _episode.Changed(action);
    }

    private async Task RaiseAsync(AccountView account, RiskState? state, MarginPicture picture, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var health = picture.Health;
        var liquidate = health.Action == MarginAction.LiquidateAll;
        var ratio = Wire.Format(RecordedRatio(health.Ratio));
        // An isolated position's part is never LiquidateAll (JudgeAsync): its alert names it, and Execution closes it.
        var reason = liquidate
            ? $"Margin ratio {ratio} at or below 1: flatten everything"
            : picture.Symbol is null
                ? $"Margin ratio {ratio} below 1 + buffer {Wire.Format(evaluator.Limits.LiquidationBuffer)}: reduce the largest position by half"
                : $"The isolated {picture.Symbol} position's margin ratio {ratio} below 1 + buffer {Wire.Format(evaluator.Limits.LiquidationBuffer)}: close it";
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

        var eventId = _episode.Raise(new MarginAlertRecord(health.Action, NewId.NextGuid(), reason, ratio,
            liquidate ? "1" : Wire.Format(1m + evaluator.Limits.LiquidationBuffer), now));
        if (_episode.Owes(eventId))
        {
            // Recorded before it is published: a monitor that stops between the two leaves the record a restarted one
            // resumes the episode from (the alert under the same id: acted on if it never went out, dropped if it did).
            // Owed until it lands; an alert raised again under the same id keeps its first record.
            await RecordOwedAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await alerts.PublishAsync(new MarginAlertRaised(
                eventId, now, liquidate ? MarginAlertAction.LiquidateAll : MarginAlertAction.Reduce,
                health.Ratio, picture.Equity, picture.Maintenance, reason, picture.Symbol), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (latch is not null)
            {
                await latch.ConfigureAwait(false);
            }
        }

        // The position the alert targets: the isolated one whose own margin raised it (closed), or the largest (halved).
        _episode.Published(picture.Symbol is { } isolated ? (isolated, Math.Abs(account.SizeOn(new Symbol(isolated)))) : Largest(account));
        LogAlert(logger, health.Action, ratio);
    }

    /// <summary>The account's largest position by notional at the mark (symbol and absolute size), the one a Reduce halves.</summary>
    private static (string Symbol, decimal Size)? Largest(AccountView account)
    {
        (string Symbol, decimal Size)? largest = null;
        var largestNotional = -1m;
        foreach (var p in account.Positions)
        {
            var notional = Math.Abs(p.SignedSize * p.MarkPrice);
            if (notional > largestNotional)
            {
                (largest, largestNotional) = ((p.Symbol.Value, Math.Abs(p.SignedSize)), notional);
            }
        }

        return largest;
    }

    /// <summary>
    /// The daily-loss and drawdown limits on <paramref name="state"/>: a breach first has the venue's transfers booked and
    /// is judged again on a read of the Ledger made after that, whoever booked them (a withdrawal is no loss); a reload
    /// that fails leaves the breach as measured (fail closed). A breach still standing is latched (owed when the Ledger
    /// does not take it). Returns the state judged last.
    /// </summary>
    private async Task<RiskState> JudgeLossLimitsAsync(
        AccountView account, RiskState state, RiskLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (CheckLossLimits(account, state, limits, now))
        {
            await transfers.BookNowAsync(cancellationToken).ConfigureAwait(false);
            if (await TryAsync(() => cache.RefreshAfterNowAsync(cancellationToken), cancellationToken).ConfigureAwait(false) is { } reloaded)
            {
                _pendingLatch = null;
                state = reloaded;
                CheckLossLimits(account, state, limits, now);
            }
        }

        await LatchPendingAsync(state, cancellationToken).ConfigureAwait(false);
        return state;
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

    private Task SnapshotAsync(AccountView account, RiskState state, MarginHealthResult health, DateTimeOffset now, CancellationToken cancellationToken) =>
        LedgerCall.Run(() => ledger.LogPnlSnapshotAsync(
            EquityBaseline.Snapshot("risk:pnl:", account, state, RecordedRatio(health.Ratio), now), cancellationToken: cancellationToken).ResponseAsync);

    /// <summary>
    /// The ratio as the Ledger records it: 8 decimals (its money precision), half to even, never negative. Domain keeps
    /// the exact ratio for decisions; this is only the figure written down.
    /// </summary>
    private static decimal? RecordedRatio(decimal? ratio) =>
        ratio is { } r ? Math.Max(0m, Math.Round(r, 8, MidpointRounding.ToEven)) : null;
}
