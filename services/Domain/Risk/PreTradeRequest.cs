namespace TradeEngine.Domain.Risk;

/// <summary>
/// Everything the pre-trade check looks at, as values: the order, the position already held
/// on the symbol, the account's balances and equity marks, and the kill switch. Quantity,
/// price and leverage are value types, so zero, negative or 126× cannot even be expressed.
/// </summary>
public readonly record struct PreTradeRequest
{
    public Symbol Symbol { get; init; }

    public required Side Side { get; init; }

    public required Quantity Quantity { get; init; }

    /// <summary>The price the order is expected to fill at (the limit price, or mark for a market order).</summary>
    public required Price Price { get; init; }

    /// <summary>
    /// The symbol's mark price where the caller's account shows one (its position on the symbol); 0 when unknown. The
    /// position after the trade is valued at the higher of this and <see cref="Price"/>, so an order priced below the
    /// market cannot make a position over the notional limit look under it.
    /// </summary>
    public decimal MarkPrice { get; init; }

    public required Leverage Leverage { get; init; }

    /// <summary>Signed size already held on the symbol (long positive, 0 when flat). The order adds to it.</summary>
    public decimal ExistingPositionSize { get; init; }

    /// <summary>Free margin the order's initial margin must fit in.</summary>
    public required decimal AvailableBalance { get; init; }

    /// <summary>
    /// The balance that, times leverage, bounds the position's notional: the account's margin balance (wallet + unrealized
    /// PnL), never above its wallet balance (Risk passes the smaller of the two).
    /// </summary>
    public required decimal Balance { get; init; }

    /// <summary>Equity at 00:00 UTC today (see <see cref="EquityMath"/>).</summary>
    public required decimal EquityAtStartOfDay { get; init; }

    /// <summary>Equity now: realized, unrealized, funding and fees all included.</summary>
    public required decimal CurrentEquity { get; init; }

    /// <summary>Highest equity reached (the drawdown reference).</summary>
    public required decimal PeakEquity { get; init; }

    public bool KillSwitchActive { get; init; }
}
