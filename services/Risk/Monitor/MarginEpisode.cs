using TradeEngine.Domain.Margin;

namespace TradeEngine.Risk.Monitor;

/// <summary>What the margin monitor's tick does about the margin state (<see cref="MarginEpisode.Next"/>).</summary>
public enum MarginEpisodeStep
{
    /// <summary>Nothing: the state is unchanged.</summary>
    None,

    /// <summary>The resumed episode's alert is published again under its event id, once.</summary>
    Republish,

    /// <summary>The state changed: an alert for Reduce or LiquidateAll, only the new state for Ok.</summary>
    Change,

    /// <summary>
    /// Still in Reduce by the ratio itself after the position that was the largest when the last Reduce alert went out
    /// has shrunk (as that alert's halving shrinks it): a new Reduce alert, under a new event id, halves the largest
    /// position again.
    /// </summary>
    ReduceAgain,
}

/// <summary>An alert's episode record as it was first written: a retry carries the same payload (its key is the event id's).</summary>
public sealed record MarginAlertRecord(MarginAction Action, Guid EventId, string Reason, string Ratio, string Limit, DateTimeOffset OccurredAt);

/// <summary>
/// The margin monitor's episode state machine, with no I/O: the margin state the monitor is in, the recovery band that
/// damps it (<see cref="RecoveryBand"/>), the episode resumed from the Ledger at start and the rules for resuming it, which
/// alert is due and under which event id, and which record of it is owed. <see cref="MarginMonitor"/> reads the account and
/// the Ledger, asks this class what is due, does it, and reports back what landed.
/// </summary>
public sealed class MarginEpisode
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

    /// <summary>
    /// The event id of an alert whose publish failed, kept for the state it was raised for: the next tick's alert for
    /// that state carries it again, so a publish that reached the broker but failed to confirm is deduplicated by the
    /// consumers' inbox instead of acted on twice (a position halved twice).
    /// </summary>
    private (MarginAction Action, Guid EventId)? _unconfirmed;

    /// <summary>The event id whose alert is recorded in the Ledger: an alert raised again under it is not recorded twice.</summary>
    private Guid? _recorded;

    /// <summary>
    /// An episode resumed from the Ledger at start whose alert is still to be published again under its event id (once,
    /// when the account is in that state by its own ratio, not only held there by the band): the first process may have
    /// recorded it and stopped before publishing it.
    /// </summary>
    private bool _republish;

    /// <summary>
    /// Whether a tick of this process has seen the account clear of the recovery band (or flat): the episode found in the
    /// Ledger afterwards is over, and is not resumed (its recovery is recorded).
    /// </summary>
    private bool _sawClear;

    /// <summary>
    /// The largest position (symbol and absolute size) when the last Reduce alert went out, the one its halving targets;
    /// null when none is under way (the state is not Reduce, or a resumed Reduce episode not yet published again). The
    /// plan reduces the largest position on every check while the ratio is inside the buffer; an alert per tick would
    /// halve it again before the first halving had shown, so a Reduce alert is raised again only once this position has
    /// shrunk. Another position changing (a stop-loss filling, an open) does not count. Before, one Reduce alert was raised
    /// per episode: an account still inside the buffer after the halving was reduced no further until its ratio reached 1.
    /// </summary>
    private (string Symbol, decimal Size)? _reducedAt;

    /// <summary>The margin state of the last tick.</summary>
    public MarginAction Last { get; private set; } = MarginAction.Ok;

    /// <summary>The symbol the last Reduce alert targeted, while a Reduce is under way; null otherwise.</summary>
    public string? Targeted => _reducedAt?.Symbol;

    /// <summary>
    /// Whether the Ledger's record of the last episode has been read (<see cref="Resume"/>): tried each tick until it is,
    /// or until this process raises an alert without it (de-risking beats silence).
    /// </summary>
    public bool Read { get; private set; }

    /// <summary>
    /// The event id of the alert of the episode under way (raised here, or found open in the Ledger at start): its
    /// recovery is recorded when the state is Ok again, retried each tick while it is.
    /// </summary>
    public Guid? Open { get; private set; }

    private readonly List<MarginAlertRecord> _owed = [];
    private Guid? _openBefore;

    /// <summary>
    /// The records of alerts that have not landed (the Ledger down, or past the call's deadline when the alert was raised),
    /// oldest first: owed, and written in that order on each later tick, after that tick's alert if any, until they land.
    /// Without them an alert that went out unrecorded left a restarted monitor nothing to resume: it raised the episode
    /// again under a new id, and Execution halved the largest position a second time. A recovery is recorded only after
    /// them (the Ledger's newest record is then the recovery, not an alert landing after it). A later alert's record is
    /// owed after the earlier ones, not instead of them: an alert that is then dropped unpublished (its state over before
    /// its publish went through) takes its record with it, and the published one before it stays owed and the newest.
    /// </summary>
    public IReadOnlyList<MarginAlertRecord> OwedRecords => _owed;

    /// <summary>The oldest owed record (the next to write), or null when none is owed.</summary>
    public MarginAlertRecord? OwedRecord => _owed.Count > 0 ? _owed[0] : null;

    /// <summary>Whether the record of <paramref name="eventId"/> is owed.</summary>
    public bool Owes(Guid eventId) => _owed.Exists(r => r.EventId == eventId);

    /// <summary>The event id the alert for <paramref name="action"/> would go out under now, if one is kept for it.</summary>
    public Guid? KeptEventId(MarginAction action) => _unconfirmed is { } kept && kept.Action == action ? kept.EventId : null;

    /// <summary>
    /// The Ledger's record of the last episode, read (<paramref name="open"/>: its open alert, or null). Resumed (true) only
    /// when the account was watched until a moment before this process started and no tick of this process has seen it
    /// clear of the band: then the episode went on until the restart, and it is continued under the alert's event id
    /// instead of raised again under a new one (Execution halved the largest position a second time). A Reduce episode
    /// also becomes the state this monitor moves from (its band applies) and its alert is published again once the ratio is
    /// in Reduce by itself; a LiquidateAll one is only kept as the unconfirmed alert, so the account at LiquidateAll
    /// publishes it again under its id (and latches the switch again), and at Reduce raises a Reduce alert (holding
    /// LiquidateAll would leave an account between the two boundaries with no alert and no latch if the first process
    /// stopped before either). Otherwise (unwatched for longer: the account may have recovered and fallen back unseen) it is
    /// not resumed (false): an alert then is a new one (under the old id it would be taken as done, and the account not
    /// de-risked), and a state Ok records the old episode's recovery. Null when there was no open episode.
    /// </summary>
    public bool? Resume((MarginAction Action, Guid EventId, bool Watched)? open)
    {
        Read = true;
        if (open is not { } episode)
        {
            return null;
        }

        Open = episode.EventId;
        _recorded = episode.EventId;
        if (!episode.Watched || _sawClear)
        {
            return false;
        }

        _unconfirmed = (episode.Action, episode.EventId);
        if (episode.Action == MarginAction.Reduce)
        {
            Last = MarginAction.Reduce;
            _republish = true;
        }

        return true;
    }

    /// <summary>
    /// A tick's margin health (<paramref name="current"/> by the ratio alone) seen: the state the monitor moves to (damped by
    /// the band), and the alert kept unconfirmed dropped when the state it was raised for is over.
    /// </summary>
    public MarginAction Observe(MarginAction current, decimal? ratio, decimal buffer)
    {
        if (ratio is not { } clearRatio || clearRatio >= 1m + buffer + RecoveryBand)
        {
            _sawClear = true;
        }

        var action = Damped(current, ratio, buffer);
        if (_unconfirmed is { } unconfirmed && unconfirmed.Action != action)
        {
            // The state the unconfirmed alert was raised for is over: a later episode of it is a new alert, with an id of
            // its own (the consumers took the old id once, and would take a new alert under it as done). Its record, if
            // still owed, goes with it: an alert that never went out must not become the Ledger's newest (a restart would
            // resume it, and raise the episode again under a new id).
            _unconfirmed = null;
            if (_owed.RemoveAll(r => r.EventId == unconfirmed.EventId) > 0 && Open == unconfirmed.EventId)
            {
                // Neither published nor recorded: the episode under way is the one before it (its recovery is that one's).
                Open = _openBefore;
            }
        }

        return action;
    }

    /// <summary>
    /// What this tick does with the state <paramref name="action"/> (from <see cref="Observe"/>; <paramref name="current"/>
    /// is the ratio's own; <paramref name="sizeOf"/> the absolute size the account now holds on a symbol, 0 when flat). A
    /// resumed episode whose state is over (Ok, or another) is not published again. In Reduce by the ratio itself, once
    /// the position the last Reduce alert targeted has shrunk: <see cref="MarginEpisodeStep.ReduceAgain"/> (inside the
    /// band, Reduce only by the damping, is not).
    /// </summary>
    public MarginEpisodeStep Next(MarginAction action, MarginAction current, Func<string, decimal>? sizeOf = null)
    {
        if (_republish)
        {
            if (action != Last)
            {
                _republish = false;
            }
            else if (current == action && action is MarginAction.Reduce or MarginAction.LiquidateAll)
            {
                return MarginEpisodeStep.Republish;
            }
        }

        if (action != Last)
        {
            return MarginEpisodeStep.Change;
        }

        return action == MarginAction.Reduce && current == MarginAction.Reduce && sizeOf is not null
               && _reducedAt is { } targeted && sizeOf(targeted.Symbol) < targeted.Size
            ? MarginEpisodeStep.ReduceAgain
            : MarginEpisodeStep.None;
    }

    /// <summary>The resumed alert went out again: it is not published again.</summary>
    public void Republished() => _republish = false;

    /// <summary>The state moved to <paramref name="action"/> (for an alert, once it is published).</summary>
    public void Changed(MarginAction action)
    {
        Last = action;
        if (action != MarginAction.Reduce)
        {
            _reducedAt = null;
        }
    }

    /// <summary>
    /// An alert is raised without the Ledger's record read (it could not be): from here on it is not read (true when this
    /// call is the one that gave up on it). The alert goes out under a new id rather than not at all.
    /// </summary>
    public bool GiveUpRead()
    {
        var gaveUp = !Read;
        Read = true;
        return gaveUp;
    }

    /// <summary>
    /// An alert for <paramref name="record"/>'s action is being raised: its event id (the one kept unconfirmed for the same
    /// action, else <paramref name="record"/>'s new one), which becomes the unconfirmed alert and the open episode, and its
    /// record owed unless it is recorded already (an alert raised again keeps its first record).
    /// </summary>
    public Guid Raise(MarginAlertRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var eventId = KeptEventId(record.Action) ?? record.EventId;
        _unconfirmed = (record.Action, eventId);
        if (Open != eventId)
        {
            _openBefore = Open;
        }

        Open = eventId;
        if (_recorded != eventId && !Owes(eventId))
        {
            _owed.Add(record with { EventId = eventId });
        }

        return eventId;
    }

    /// <summary>
    /// The alert raised last was published, with <paramref name="largest"/> the account's largest position (symbol and
    /// absolute size): the next one is a new alert, and for a Reduce alert that position shrinking is what lets the next
    /// one be raised in the same state.
    /// </summary>
    public void Published((string Symbol, decimal Size)? largest = null)
    {
        _reducedAt = _unconfirmed is { Action: MarginAction.Reduce } ? largest : null;
        _unconfirmed = null;
    }

    /// <summary>The owed record of <paramref name="eventId"/> landed in the Ledger.</summary>
    public void Recorded(Guid eventId)
    {
        _recorded = eventId;
        _owed.RemoveAll(r => r.EventId == eventId);
    }

    /// <summary>The open episode's recovery landed in the Ledger.</summary>
    public void RecoveryRecorded() => Open = null;

    /// <summary>
    /// The state this tick moves to. Worse states are entered at once; a milder one only once the ratio is clear of the
    /// band above the Reduce boundary (<see cref="RecoveryBand"/>), or the account holds nothing. From LiquidateAll the
    /// way back is to Ok, never to Reduce: halving a position the flattening is already closing would only race it.
    /// </summary>
    private MarginAction Damped(MarginAction current, decimal? ratio, decimal buffer)
    {
        if (Last == MarginAction.Ok || current == Last || current == MarginAction.LiquidateAll)
        {
            return current;
        }

        if (current == MarginAction.Reduce)
        {
            // Only reached from LiquidateAll.
            return Last;
        }

        return ratio is { } r && r < 1m + buffer + RecoveryBand ? Last : MarginAction.Ok;
    }
}
