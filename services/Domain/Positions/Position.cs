namespace TradeEngine.Domain.Positions;

/// <summary>
/// A one-way-mode position: signed size (long positive, 0 when flat) and average entry. Fills
/// move it through open, add, reduce, close and flip, returning the realized PnL of each.
/// </summary>
public readonly record struct Position(Symbol Symbol, decimal SignedSize, decimal EntryPrice)
{
    public static Position Flat(Symbol symbol) => new(symbol, 0m, 0m);

    public bool IsFlat => SignedSize == 0m;

    public Side? Side => SignedSize == 0m ? null : SideExtensions.FromSignedSize(SignedSize);

    public decimal Notional(decimal markPrice) => Math.Abs(SignedSize) * Guard.Positive(markPrice, nameof(markPrice));

    public decimal UnrealizedPnl(decimal markPrice) =>
        IsFlat ? 0m : PositionMath.UnrealizedPnl(SignedSize, EntryPrice, markPrice);

    /// <summary>
    /// Applies a fill. Same direction (or flat): the entry becomes the weighted average. Opposite
    /// direction: the closed part realizes PnL at the entry it was opened at, and any excess opens
    /// a new position at the fill price. The fee is charged to this fill's realized PnL.
    /// </summary>
    public FillOutcome Apply(Side side, decimal quantity, decimal price, decimal fee)
    {
        var sign = Guard.Sign(side, nameof(side));
        Guard.Positive(quantity, nameof(quantity));
        Guard.Positive(price, nameof(price));
        Guard.NonNegative(fee, nameof(fee));
        var signedFill = sign * quantity;
        if (IsFlat || Math.Sign(SignedSize) == sign)
        {
            var entry = PositionMath.AverageEntryAfterAdd(SignedSize, EntryPrice, signedFill, price);
            return new FillOutcome(this with { SignedSize = SignedSize + signedFill, EntryPrice = entry }, -fee, 0m);
        }

        var held = Math.Abs(SignedSize);
        var closed = Math.Min(held, quantity);
        var realized = PositionMath.RealizedPnl(SideExtensions.FromSignedSize(SignedSize), closed, EntryPrice, price, fee);
        var remaining = SignedSize + signedFill;
        var after = remaining == 0m
            ? this with { SignedSize = 0m, EntryPrice = 0m }
            : Math.Sign(remaining) == Math.Sign(SignedSize)
                ? this with { SignedSize = remaining }
                : this with { SignedSize = remaining, EntryPrice = price };
        return new FillOutcome(after, realized, closed);
    }
}

/// <summary>The position after a fill, the realized PnL net of the fill's fee, and how much was closed.</summary>
public readonly record struct FillOutcome(Position After, decimal RealizedPnl, decimal ClosedQuantity);
