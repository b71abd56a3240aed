namespace TradeEngine.Domain.Positions;

/// <summary>PnL and entry-price arithmetic on signed sizes (long positive). Exact; no rounding.</summary>
public static class PositionMath
{
    /// <summary>Unrealized PnL = signed size × (mark − entry).</summary>
    public static decimal UnrealizedPnl(decimal signedSize, decimal entryPrice, decimal markPrice) =>
        signedSize * (Guard.Positive(markPrice, nameof(markPrice)) - Guard.Positive(entryPrice, nameof(entryPrice)));

    /// <summary>
    /// Realized PnL of closing <paramref name="closedQuantity"/> of a <paramref name="positionSide"/>
    /// position: side × quantity × (exit − entry) − fees. Fees are positive when paid.
    /// </summary>
    public static decimal RealizedPnl(Side positionSide, decimal closedQuantity, decimal entryPrice, decimal exitPrice, decimal fees)
    {
        var sign = Guard.Sign(positionSide, nameof(positionSide));
        Guard.Positive(closedQuantity, nameof(closedQuantity));
        Guard.Positive(entryPrice, nameof(entryPrice));
        Guard.Positive(exitPrice, nameof(exitPrice));
        Guard.NonNegative(fees, nameof(fees));
        return sign * closedQuantity * (exitPrice - entryPrice) - fees;
    }

    /// <summary>
    /// Quantity-weighted entry after adding to a position in the same direction:
    /// (|existing| × entry + |add| × fill) / (|existing| + |add|). Exact to decimal's 28 digits.
    /// </summary>
    public static decimal AverageEntryAfterAdd(decimal existingSignedSize, decimal existingEntry, decimal addSignedSize, decimal fillPrice)
    {
        Guard.Positive(fillPrice, nameof(fillPrice));
        if (addSignedSize == 0m)
        {
            Guard.Fail(nameof(addSignedSize), "must not be 0");
        }

        if (existingSignedSize == 0m)
        {
            return fillPrice;
        }

        Guard.Positive(existingEntry, nameof(existingEntry));
        if (Math.Sign(existingSignedSize) != Math.Sign(addSignedSize))
        {
            Guard.Fail(nameof(addSignedSize), "must have the position's direction to be an add (a reduce keeps the entry)");
        }

        var existing = Math.Abs(existingSignedSize);
        var added = Math.Abs(addSignedSize);
        return (existing * existingEntry + added * fillPrice) / (existing + added);
    }
}
