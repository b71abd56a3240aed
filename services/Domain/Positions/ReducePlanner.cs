using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Positions;

/// <summary>
/// An open position at its current mark, with the step size its orders must respect and the smallest order (minQty: the
/// lot grid is minQty + k × step; 0 when not known, the grid then the step's multiples).
/// </summary>
public readonly record struct MarkedPosition(Symbol Symbol, decimal SignedSize, decimal MarkPrice, decimal StepSize, decimal MinQty = 0m)
{
    public decimal Notional => Math.Abs(SignedSize) * MarkPrice;
}

/// <summary>The order that answers a Reduce margin alert.</summary>
public readonly record struct ReduceOrder(int Index, Symbol Symbol, Side CloseSide, decimal Quantity, decimal Notional);

/// <summary>
/// The plan's response to a Reduce alert: halve the largest position by notional at mark
/// price. Ties go to the earlier symbol in ordinal order so the choice is repeatable. Half is
/// rounded down onto the lot grid (minQty + k × step, the venue's step rule), never up, so we
/// never close more than asked; when half a position is below the smallest order the whole
/// position is closed instead. Before, half was floored to the step's multiples, off the grid
/// where minQty is not one of them (half of 0.0035 on minQty 0.0015: 0.001, which the venue
/// refuses).
/// </summary>
public static class ReducePlanner
{
    public static bool TryChooseReduceByHalf(ReadOnlySpan<MarkedPosition> positions, out ReduceOrder order)
    {
        var best = -1;
        for (var i = 0; i < positions.Length; i++)
        {
            var candidate = positions[i];
            Guard.Positive(candidate.MarkPrice, "markPrice");
            Guard.Positive(candidate.StepSize, "stepSize");
            if (candidate.SignedSize == 0m)
            {
                continue;
            }

            if (best < 0 || IsLarger(candidate, positions[best]))
            {
                best = i;
            }
        }

        if (best < 0)
        {
            order = default;
            return false;
        }

        var chosen = positions[best];
        var size = Math.Abs(chosen.SignedSize);
        var half = SymbolFilters.FloorToLot(size / 2m, chosen.MinQty, chosen.StepSize);
        var quantity = half > 0m && half >= chosen.MinQty ? half : size;
        var closeSide = chosen.SignedSize > 0m ? Side.Short : Side.Long;
        order = new ReduceOrder(best, chosen.Symbol, closeSide, quantity, quantity * chosen.MarkPrice);
        return true;
    }

    private static bool IsLarger(in MarkedPosition candidate, in MarkedPosition current)
    {
        var difference = candidate.Notional - current.Notional;
        return difference > 0m
            || (difference == 0m && string.CompareOrdinal(candidate.Symbol.Value, current.Symbol.Value) < 0);
    }
}
