namespace TradeEngine.Contracts.Events;

public enum MarginAlertAction
{
    /// <summary>Margin ratio below 1 + buffer: open nothing new and halve the largest position.</summary>
    Reduce = 1,

    /// <summary>Margin ratio below 1: flatten everything; the kill switch is on.</summary>
    LiquidateAll = 2,
}

/// <summary>
/// The margin monitor found the account in a worse margin state than before (one event per change). <see cref="Symbol"/>
/// names an isolated position whose own margin raised a Reduce (always Reduce: that position is closed, not the largest
/// halved); null when the account's margin raised it (and in events written before it was carried).
/// <see cref="MarginRatio"/>, <see cref="Equity"/> and <see cref="MaintenanceMargin"/> are those of what raised it: the
/// isolated position's, or the cross margin's when the account holds isolated positions judged apart (the totals' when
/// it holds none).
/// </summary>
public sealed record MarginAlertRaised(
    Guid EventId,
    DateTimeOffset OccurredAt,
    MarginAlertAction Action,
    decimal? MarginRatio,
    decimal Equity,
    decimal MaintenanceMargin,
    string Reason,
    string? Symbol = null);

/// <summary>The kill switch changed state. <see cref="Active"/> false means an operator reset it.</summary>
public sealed record KillSwitchTriggered(
    Guid EventId,
    DateTimeOffset OccurredAt,
    bool Active,
    string Trigger,
    string Reason,
    string Actor);

/// <summary>
/// A risk event was recorded in the Ledger. <see cref="CorrelationId"/> ties it to what it is about (a margin alert's event
/// id for the monitor's episode records); null when the event was logged without one, and in events written before it
/// was carried.
/// </summary>
public sealed record RiskEventLogged(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid RiskEventId,
    string EventType,
    string Severity,
    string Reason,
    string? Symbol,
    decimal? MetricValue,
    decimal? LimitValue,
    Guid? CorrelationId);
