using TradeEngine.Domain.Risk;

namespace TradeEngine.Risk.Options;

/// <summary>
/// Configuration section <c>Risk</c>. Every limit is optional: an absent value takes the hard limit from
/// <see cref="RiskLimits"/>; a value looser than the hard limit stops the service at start-up.
/// </summary>
public sealed class RiskOptions
{
    public const string SectionName = "Risk";

    public decimal? MaxPositionNotional { get; set; }

    public decimal? DailyLossLimit { get; set; }

    public decimal? MaxDrawdown { get; set; }

    public int? MaxLeverage { get; set; }

    public decimal? LiquidationBuffer { get; set; }

    public decimal? MinNotional { get; set; }

    /// <summary>How often the kill switch, day-start and peak equity are re-read from the Ledger.</summary>
    public int StateRefreshSeconds { get; set; } = 5;

    /// <summary>Older Ledger state than this is unknown: checks fail closed (UNAVAILABLE) until a refresh succeeds.</summary>
    public int StateMaxAgeSeconds { get; set; } = 60;

    /// <summary>
    /// How long Risk waits for Funding to book the venue's transfers (Funding's BookTransfers) before it latches the kill
    /// switch for a daily-loss or drawdown breach: a withdrawal not booked yet reads as a loss. Past it, or when Funding
    /// fails, the breach latches as measured (fail closed).
    /// </summary>
    public int TransferCheckSeconds { get; set; } = 3;

    public MarginMonitorOptions MarginMonitor { get; set; } = new();

    public KillSwitchOptions KillSwitch { get; set; } = new();

    /// <summary>The limits in force; throws a <see cref="Domain.DomainException"/> naming the first looser value.</summary>
    public RiskLimits ToLimits() => RiskLimits.Create(
        MaxPositionNotional, DailyLossLimit, MaxDrawdown, MaxLeverage, LiquidationBuffer, MinNotional);
}

/// <summary>Section <c>Risk:MarginMonitor</c>.</summary>
public sealed class MarginMonitorOptions
{
    /// <summary>Null: on when an account source is available (Execution's address is configured).</summary>
    public bool? Enabled { get; set; }

    public int IntervalSeconds { get; set; } = 5;
}

/// <summary>Section <c>Risk:KillSwitch</c>.</summary>
public sealed class KillSwitchOptions
{
    /// <summary>
    /// The secret a caller of ResetKillSwitch presents in the <c>x-operator-key</c> request metadata: the switch is the last
    /// line of defence after a daily-loss or drawdown breach, so not everyone who can reach the service may clear it.
    /// Null: resetting is refused (FAILED_PRECONDITION) until one is configured; triggering needs no key. Never logged.
    /// </summary>
    public string? OperatorKey { get; set; }
}
