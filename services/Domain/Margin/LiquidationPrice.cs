using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Margin;

/// <summary>Liquidation prices: the plan's simple estimate and the exchange's bracket formula.</summary>
public static class LiquidationPrice
{
    public const decimal DefaultMaintenanceMarginRate = 0.004m;

    /// <summary>
    /// The plan's estimate: long entry × (1 − 1/leverage + mmr), short entry × (1 + 1/leverage − mmr); 50,000 at 5× long =
    /// 40,200.00. It ignores fees, cum and brackets; use <see cref="Exchange"/> for the exchange's own figure.
    /// Rounded to 0.01 (the plan's quantize), or to the symbol's tick when that is finer, and toward the entry (up for a
    /// long, down for a short), so the estimate never puts liquidation further away than the formula does. Before, it
    /// was always 0.01 half to even, which is BTC's scale: DOGEUSDT long at 0.15 and 20× (0.143100) gave 0.14, 2 % further
    /// from the entry, and a price under 0.005 gave 0.
    /// </summary>
    public static decimal Simple(decimal entry, int leverage, Side side, decimal tickSize, decimal mmr = DefaultMaintenanceMarginRate)
    {
        Guard.Positive(entry, nameof(entry));
        Guard.Positive(tickSize, nameof(tickSize));
        var lev = new Leverage(leverage);
        if (mmr is < 0m or >= 1m)
        {
            Guard.Fail(nameof(mmr), "must be from 0 to less than 1");
        }

        // In increments, with one division: long entry × (L − 1 + mmr × L) / (L × increment), short entry × (L + 1 − mmr × L)
        // / (L × increment). The numerator is exact, so a figure that falls on an increment is a whole number here and is
        // not moved; with 1/L computed first (28 digits), 1.53 × (1 − 1/3 + 0.004), exactly 1.02612, came out a hair above
        // and was rounded up a whole tick.
        var increment = Math.Min(tickSize, PlanIncrement);
        var sign = Guard.Sign(side, nameof(side));
        try
        {
            var units = entry * (lev.Value + sign * (mmr * lev.Value - 1m)) / (lev.Value * increment);
            return (sign > 0 ? Math.Ceiling(units) : Math.Floor(units)) * increment;
        }
        catch (OverflowException)
        {
            throw new DomainException(nameof(entry), "is too large for a liquidation price at this tick");
        }
    }

    /// <summary>The plan's rounding of the simple estimate (<c>quantize(Decimal("0.01"))</c>).</summary>
    private const decimal PlanIncrement = 0.01m;

    /// <summary>
    /// Binance USD-M, one-way mode ("How to Calculate Liquidation Price of USDⓈ-M Futures Contracts"):
    /// LP = (WB − TMM1 + UPNL1 + cumB − Side1 × Position1 × EP1) / (Position1 × MMR_B − Side1 × Position1),
    /// Side1 = +1 long, −1 short. Isolated: WB is the isolated wallet and TMM1 = UPNL1 = 0.
    ///
    /// Bracket choice: maintenance margin is charged on the notional at the liquidation price,
    /// Position1 × LP, not at entry. We start in the entry notional's bracket and step one
    /// bracket toward where Position1 × LP landed until it lands inside the bracket used.
    /// Because cum makes maintenance margin continuous and the margin balance minus maintenance
    /// is monotone in price, each step moves toward the one true root and never back, so the
    /// walk ends at the exact solution within the table's length. Exact decimal; not rounded.
    /// </summary>
    public static LiquidationResult Exchange(in LiquidationInput input)
    {
        var brackets = input.Brackets ?? throw new DomainException("brackets", "are required");
        var sign = Guard.Sign(input.Side, "side");
        var quantity = Guard.Positive(input.Quantity, "quantity");
        var entry = Guard.Positive(input.EntryPrice, "entryPrice");
        if (Guard.Defined(input.MarginType, "marginType") == MarginType.Isolated
            && (input.OtherMaintenanceMargin != 0m || input.OtherUnrealizedPnl != 0m))
        {
            Guard.Fail("otherMaintenanceMargin", "must be 0 in isolated mode (TMM1 = UPNL1 = 0)");
        }

        Guard.NonNegative(input.OtherMaintenanceMargin, "otherMaintenanceMargin");

        var index = brackets.IndexOf(quantity * entry);
        if (index < 0)
        {
            Guard.Fail("quantity", "puts the notional above the symbol's last bracket");
        }

        // Everything but cumB and MMR_B is the same in every bracket.
        var signedNotional = sign * quantity * entry;
        var numeratorBase = input.WalletBalance - input.OtherMaintenanceMargin + input.OtherUnrealizedPnl - signedNotional;
        var last = brackets.Count - 1;
        LeverageBracket bracket;
        decimal price;
        for (var steps = 0; ; steps++)
        {
            bracket = brackets[index];
            try
            {
                price = (numeratorBase + bracket.Cum) / (quantity * bracket.MaintMarginRatio - sign * quantity);
            }
            catch (OverflowException)
            {
                // A quantity of 1e-27 against a wallet of 1,000: the price would be past decimal's range.
                throw new DomainException("quantity", "is too small against the wallet balance for a liquidation price");
            }

            var notional = quantity * price;
            if (notional < bracket.NotionalFloor && index > 0 && steps <= last)
            {
                index--;
            }
            else if (notional > bracket.NotionalCap && index < last && steps <= last)
            {
                index++;
            }
            else
            {
                break;
            }
        }

        var outcome = price > 0m ? LiquidationOutcome.AtPrice
            : sign > 0 ? LiquidationOutcome.Never
            : LiquidationOutcome.Immediate;
        return new LiquidationResult(outcome, outcome == LiquidationOutcome.AtPrice ? price : 0m, bracket.Bracket, bracket.MaintMarginRatio, bracket.Cum);
    }
}
