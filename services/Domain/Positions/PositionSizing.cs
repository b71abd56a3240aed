using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Positions;

/// <summary>What the largest allowed order is computed from: a pre-trade request without a quantity.</summary>
public readonly record struct SizingRequest
{
    public required Side Side { get; init; }
    public required Price Price { get; init; }

    /// <summary>The symbol's mark price where known, 0 when not: as <see cref="PreTradeRequest.MarkPrice"/>.</summary>
    public decimal MarkPrice { get; init; }

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
        Side = Side, Quantity = quantity, Price = Price, MarkPrice = MarkPrice, Leverage = Leverage, ExistingPositionSize = ExistingPositionSize,
        AvailableBalance = AvailableBalance, Balance = Balance, EquityAtStartOfDay = EquityAtStartOfDay,
        CurrentEquity = CurrentEquity, PeakEquity = PeakEquity, KillSwitchActive = KillSwitchActive,
    };
}

/// <summary>
/// The largest order quantity that keeps the position under every limit the pre-trade check
/// applies: max notional after the trade, balance × leverage, free margin, the exchange's
/// max quantity, all rounded DOWN to the step. Returns 0 when no order is allowed at all
/// (kill switch, loss limits, leverage, or a size below the minimums). By construction,
/// <see cref="PreTradeCheck"/> allows an order of the returned size, and not one a step larger.
/// </summary>
/// <remarks>
/// Judged as the check judges: the position after the trade valued at max(price, mark), the order's margin at its
/// price, and the order's size bounded by MARKET_LOT_SIZE (a market order) on LOT_SIZE's step. Before, the position
/// was valued at the order's price and bounded by LOT_SIZE's maximum, so with the mark above the price (or an order
/// between the two maximums, BTCUSDT's 120 and 1,000) the size answered was one the check refused.
/// </remarks>
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

        // Notional after = |existing + sign × q| × max(price, mark) must stay under both caps. Adding
        // to the position (or opening) leaves cap/valuation − |existing|; an opposite order may first
        // close the position and then open up to cap/valuation the other way. Margin is the order's
        // own, at its price.
        var existing = request.ExistingPositionSize;
        var sameDirection = existing == 0m || Math.Sign(existing) == sign;
        var valuation = Math.Max(price, request.MarkPrice);
        var cap = Math.Min(limits.MaxNotional, request.Balance * leverage);
        var byNotional = sameDirection ? cap / valuation - Math.Abs(existing) : Math.Abs(existing) + cap / valuation;
        var byMargin = request.AvailableBalance * leverage / price;
        var quantity = Math.Min(Math.Min(byNotional, byMargin), filters.MarketMaxQty);
        if (quantity < filters.MinQty)
        {
            return 0m;
        }

        quantity = filters.FloorToStep(quantity);
        if (quantity < filters.MarketMinQty)
        {
            return 0m;
        }

        // The divisions above round at the 28th digit; step down (a step or two at most) while a
        // multiplication says the size would still break a limit, so the answer never rests on
        // that rounding. Still no fit after that means no size fits: an opposite order whose
        // margin cannot cover bringing an oversized position back under the cap.
        for (var tries = 0; !Fits(request, limits, filters, quantity, sign, price, valuation, leverage); tries++)
        {
            quantity -= filters.StepSize;
            if (tries == 2 || quantity < Math.Max(filters.MinQty, filters.MarketMinQty))
            {
                return 0m;
            }
        }

        var minNotional = Math.Max(limits.MinNotional, filters.MinNotional);
        return quantity >= filters.MinQty && quantity >= filters.MarketMinQty && quantity * price >= minNotional ? quantity : 0m;
    }

    private static bool Fits(
        in SizingRequest request, in RiskLimits limits, in SymbolFilters filters, decimal quantity, int sign, decimal price, decimal valuation, int leverage)
    {
        var notionalAfter = Math.Abs(request.ExistingPositionSize + sign * quantity) * valuation;
        return notionalAfter <= limits.MaxNotional
            && notionalAfter <= request.Balance * leverage
            && quantity * price / leverage <= request.AvailableBalance
            && quantity <= filters.MarketMaxQty;
    }
}
