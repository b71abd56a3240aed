using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Margin;

/// <summary>
/// Inputs of Binance's USD-M one-way liquidation price, named after the documentation's terms.
/// A struct passed by <c>in</c> so the hot path copies nothing and allocates nothing.
/// </summary>
public readonly record struct LiquidationInput
{
    public required MarginType MarginType { get; init; }

    public required Side Side { get; init; }

    /// <summary>Position1: absolute position size in the base asset (&gt; 0).</summary>
    public required decimal Quantity { get; init; }

    /// <summary>EP1: entry price (&gt; 0).</summary>
    public required decimal EntryPrice { get; init; }

    /// <summary>WB: the isolated wallet balance of this position (isolated) or the cross wallet balance (cross).</summary>
    public required decimal WalletBalance { get; init; }

    /// <summary>TMM1: maintenance margin of all other cross positions. Must be 0 for isolated.</summary>
    public decimal OtherMaintenanceMargin { get; init; }

    /// <summary>UPNL1: unrealized PnL of all other cross positions. Must be 0 for isolated.</summary>
    public decimal OtherUnrealizedPnl { get; init; }

    /// <summary>The symbol's leverage brackets, which give MMR_B and cumB.</summary>
    public required BracketTable Brackets { get; init; }
}

/// <summary>Whether a position can be liquidated, and where.</summary>
public enum LiquidationOutcome
{
    /// <summary>Liquidated when the mark price reaches <see cref="LiquidationResult.Price"/>.</summary>
    AtPrice = 1,

    /// <summary>A long whose margin covers a fall to zero: no liquidation price (Binance shows "--").</summary>
    Never = 2,

    /// <summary>The margin is already below maintenance at any positive price.</summary>
    Immediate = 3,
}

/// <summary>The liquidation price (exact, unrounded) and the bracket it was computed in.</summary>
public readonly record struct LiquidationResult(
    LiquidationOutcome Outcome,
    decimal Price,
    int Bracket,
    decimal MaintMarginRatio,
    decimal Cum)
{
    public bool HasPrice => Outcome == LiquidationOutcome.AtPrice;
}
