namespace TradeEngine.Risk.State;

/// <summary>The kill switch as the Ledger keeps it. <see cref="Trigger"/> is the Ledger's text ("daily_loss", ...).</summary>
public sealed record KillSwitchView(bool Active, string Trigger, string Reason, string Actor, DateTimeOffset? ChangedAt)
{
    public static KillSwitchView Inactive { get; } = new(false, string.Empty, string.Empty, string.Empty, null);
}

/// <summary>
/// What the pre-trade check adds to the caller's account snapshot, read from the Ledger: the kill switch, the
/// equity at 00:00 UTC of <see cref="Day"/> (null when no snapshot exists yet), the realized PnL of the day, and the
/// peak equity (null when no snapshot exists yet). Day-start and peak equity are in today's money: the Ledger's snapshot
/// plus the net of the transfers (deposits, withdrawals) booked after it, so a transfer is not a gain or a loss.
/// </summary>
public sealed record RiskState(
    KillSwitchView KillSwitch,
    DateOnly Day,
    decimal? DayStartEquity,
    decimal RealizedPnlToday,
    decimal? PeakEquity,
    DateTimeOffset LoadedAt)
{
    /// <summary>
    /// The net of every transfer the Ledger has booked when this state was read.
    /// </summary>
    public decimal TransfersTotal { get; init; }

    /// <summary>
    /// How many transfers the Ledger had booked. It only grows: a deposit and a withdrawal of the same amount booked
    /// between two reads leave <see cref="TransfersTotal"/> as it was, but not this.
    /// </summary>
    public long TransfersBooked { get; init; }
}
