using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Risk;

/// <summary>
/// The plan's can_open_position, made total: every rule is checked and every breach is
/// reported, instead of stopping at the first. Pure and allocation-free; the caller decides
/// what to do with a denial (and latches the kill switch when <see cref="RiskDecision.LatchesKillSwitch"/>).
///
/// Meant for orders that open or add. Notional after the trade is |existing + signed order| ×
/// max(price, mark), so an opposite order nets against the position. Closing orders from the margin
/// monitor are reduce-only and do not pass through here.
/// </summary>
public static class PreTradeCheck
{
    public static RiskDecision Evaluate(in PreTradeRequest request, in RiskLimits limits, Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var filters = instrument.Filters;
        return Evaluate(request, limits, filters);
    }

    public static RiskDecision Evaluate(in PreTradeRequest request, in RiskLimits limits, in SymbolFilters filters)
    {
        var quantity = Guard.Positive(request.Quantity.Value, "quantity");
        var price = Guard.Positive(request.Price.Value, "price");
        var sign = Guard.Sign(request.Side, "side");
        if (filters.StepSize <= 0m)
        {
            Guard.Fail("filters", "must be the symbol's filters (default has no step size)");
        }

        var leverage = request.Leverage.Value;
        uint reasons = 0;
        if (request.KillSwitchActive)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.KillSwitchActive);
        }

        if (leverage < 1 || leverage > limits.MaxLeverage)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.LeverageOutOfRange);
        }

        var orderNotional = quantity * price;
        // Valued at the higher of the order's price and the mark: the whole position is worth what the market says, not
        // what one order's price says (a buy priced under the market would otherwise shrink a position over the limit).
        var valuation = Math.Max(price, request.MarkPrice);
        var notionalAfter = Math.Abs(request.ExistingPositionSize + sign * quantity) * valuation;
        if (notionalAfter > limits.MaxNotional)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.NotionalAboveLimit);
        }

        // Leverage 0 only exists as default(Leverage); it is already a denial, so margin is the full notional.
        var effectiveLeverage = leverage < 1 ? 1 : leverage;
        var requiredMargin = orderNotional / effectiveLeverage;
        if (requiredMargin > request.AvailableBalance)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.InsufficientMargin);
        }

        var balanceTimesLeverage = request.Balance * effectiveLeverage;
        if (notionalAfter > balanceTimesLeverage)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.NotionalAboveBalanceTimesLeverage);
        }

        reasons |= QuantityReasons(quantity, filters);
        var minNotional = Math.Max(limits.MinNotional, filters.MinNotional);
        if (orderNotional < minNotional)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.NotionalBelowExchangeMinimum);
        }

        var dailyLoss = EquityMath.DailyLoss(request.EquityAtStartOfDay, request.CurrentEquity);
        if (dailyLoss > limits.DailyLossLimit)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.DailyLossLimitBreached);
        }

        var drawdown = EquityMath.Drawdown(request.PeakEquity, request.CurrentEquity);
        if (drawdown > limits.MaxDrawdown)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.DrawdownLimitBreached);
        }

        var figures = new PreTradeFigures(
            quantity, orderNotional, notionalAfter, limits.MaxNotional, requiredMargin, request.AvailableBalance,
            balanceTimesLeverage, leverage, limits.MaxLeverage, filters.StepSize, filters.MarketMinQty, filters.MarketMaxQty,
            minNotional, dailyLoss, limits.DailyLossLimit, drawdown, limits.MaxDrawdown);
        return new RiskDecision(reasons, figures);
    }

    /// <summary>
    /// The order is a market order (it is judged at the expected fill price, and Execution opens with market orders), so
    /// its size limits are MARKET_LOT_SIZE's, as the venue judges it; the step is LOT_SIZE's (Binance's rule,
    /// <see cref="SymbolFilters.ValidateQuantity"/>). Before, LOT_SIZE's limits were used, and an order between the two
    /// maximums (BTCUSDT: 120 and 1,000) was allowed here and refused by the venue.
    /// </summary>
    private static uint QuantityReasons(decimal quantity, in SymbolFilters filters)
    {
        uint reasons = 0;
        if ((quantity - filters.MinQty) % filters.StepSize != 0m)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.QuantityOffStep);
        }

        if (quantity < filters.MarketMinQty)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.QuantityBelowMinimum);
        }

        if (quantity > filters.MarketMaxQty)
        {
            reasons |= RiskDecision.Bit(RiskReasonCode.QuantityAboveMaximum);
        }

        return reasons;
    }
}
