using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Positions;

/// <summary>What the largest allowed order is computed from: a pre-trade request without a quantity.</summary>
public readonly record struct SizingRequest
{
    public required Side Side { get; init; }
    public required Price Price { get; init; }
    public required Leverage Leverage { get; init; }
    public decimal ExistingPositionSize { get; init; }
    public required decimal AvailableBalance { get; init; }
    public required decimal Balance { get; init; }
    public required decimal EquityAtStartOfDay { get; init; }
    public required decimal CurrentEquity { get; init; }
    public required decimal PeakEquity { get; init; }
    public bool KillSwitchActive { get; init; }

    /// <summary>The pre-trade request for an order of <paramref name="quantity"/> under these conditions.</summary>
    public PreTradeRequest WithQuantity(Quantity quantity) => new()
    {
        Side = Side, Quantity = quantity, Price = Price, Leverage = Leverage, ExistingPositionSize = ExistingPositionSize,
        AvailableBalance = AvailableBalance, Balance = Balance, EquityAtStartOfDay = EquityAtStartOfDay,
        CurrentEquity = CurrentEquity, PeakEquity = PeakEquity, KillSwitchActive = KillSwitchActive,
    };
}

/// <summary>
/// The largest order quantity that keeps the position under every limit the pre-trade check
/// applies: max notional after the trade, balance × leverage, free margin, the exchange's
/// max quantity, all rounded DOWN to the step. Returns 0 when no order is allowed at all
/// (kill switch, loss limits, leverage, or a size below the minimums). By construction,
/// <see cref="PreTradeCheck"/> allows an order of the returned size.
/// </summary>
public static class PositionSizing
{
    public static decimal MaxQuantity(in SizingRequest request, in RiskLimits limits, in SymbolFilters filters)
    {
        var price = Guard.Positive(request.Price.Value, "price");
        var sign = Guard.Sign(request.Side, "side");
        var leverage = request.Leverage.Value;
        if (request.KillSwitchActive || leverage < 1 || leverage > limits.MaxLeverage
            || EquityMath.DailyLoss(request.EquityAtStartOfDay, request.CurrentEquity) > limits.DailyLossLimit
            || EquityMath.Drawdown(request.PeakEquity, request.CurrentEquity) > limits.MaxDrawdown)
        {
            return 0m;
        }

        // Notional after = |existing + sign × q| × price must stay under both caps. Adding to the
        // position (or opening) leaves cap/price − |existing|; an opposite order may first
        // close the position and then open up to cap/price the other way.
        var existing = request.ExistingPositionSize;
        var sameDirection = existing == 0m || Math.Sign(existing) == sign;
        var cap = Math.Min(limits.MaxNotional, request.Balance * leverage);
        var byNotional = sameDirection ? cap / price - Math.Abs(existing) : Math.Abs(existing) + cap / price;
        var byMargin = request.AvailableBalance * leverage / price;
        var quantity = Math.Min(Math.Min(byNotional, byMargin), filters.MaxQty);
        if (quantity < filters.MinQty)
        {
            return 0m;
        }

        quantity = filters.MinQty + SymbolFilters.FloorToIncrement(quantity - filters.MinQty, filters.StepSize);

        // The divisions above round at the 28th digit; step down (a step or two at most) while a
        // multiplication says the size would still break a limit, so the answer never rests on
        // that rounding. Still no fit after that means no size fits: an opposite order whose
        // margin cannot cover bringing an oversized position back under the cap.
        for (var tries = 0; !Fits(request, limits, filters, quantity, sign, price, leverage); tries++)
        {
            quantity -= filters.StepSize;
            if (tries == 2 || quantity < filters.MinQty)
            {
                return 0m;
            }
        }

        var minNotional = Math.Max(limits.MinNotional, filters.MinNotional);
        return quantity >= filters.MinQty && quantity * price >= minNotional ? quantity : 0m;
    }

    private static bool Fits(in SizingRequest request, in RiskLimits limits, in SymbolFilters filters, decimal quantity, int sign, decimal price, int leverage)
    {
        var notionalAfter = Math.Abs(request.ExistingPositionSize + sign * quantity) * price;
        return notionalAfter <= limits.MaxNotional
            && notionalAfter <= request.Balance * leverage
            && quantity * price / leverage <= request.AvailableBalance
            && quantity <= filters.MaxQty;
    }
}
