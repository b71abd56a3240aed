namespace TradeEngine.Contracts.Events;

// MassTransit routes on the full type name: this namespace and these names never change.
// Amounts are USDT decimals; quantities are absolute sizes in the base asset.

public enum PositionSide
{
    Long = 1,
    Short = 2,
}

/// <summary>A position record was opened (or added to, on the same side) in the Ledger.</summary>
public sealed record PositionOpened(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid PositionId,
    string Venue,
    string Symbol,
    PositionSide Side,
    decimal Quantity,
    decimal EntryPrice,
    int Leverage,
    string MarginType,
    decimal Fee,
    string? Strategy);

/// <summary>Part of a position was closed; <see cref="RealizedPnl"/> is the part's PnL before fees.</summary>
public sealed record PositionReduced(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid PositionId,
    string Venue,
    string Symbol,
    PositionSide Side,
    decimal ReducedQuantity,
    decimal RemainingQuantity,
    decimal ExitPrice,
    decimal RealizedPnl,
    decimal Fee,
    string? Reason);

/// <summary>A position was closed (by us, or liquidated by the venue).</summary>
public sealed record PositionClosed(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid PositionId,
    string Venue,
    string Symbol,
    PositionSide Side,
    decimal Quantity,
    decimal EntryPrice,
    decimal ExitPrice,
    decimal RealizedPnl,
    decimal Fees,
    decimal Funding,
    string? ExitReason,
    bool Liquidated);

/// <summary>
/// An open position's settings changed and the Ledger's record now holds them: its leverage at the venue (a SetLeverage,
/// or one reconciliation found there; Binance applies a symbol's leverage to its whole position, so the liquidation price
/// moves with it), or the trigger price of the stop-loss or take-profit guarding it. <see cref="Leverage"/> equals
/// <see cref="PreviousLeverage"/> when only a protective price changed; the prices are the record's after the change
/// (null: none recorded).
/// </summary>
public sealed record PositionAmended(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid PositionId,
    string Venue,
    string Symbol,
    PositionSide Side,
    int PreviousLeverage,
    int Leverage,
    decimal? StopLossPrice = null,
    decimal? TakeProfitPrice = null);
