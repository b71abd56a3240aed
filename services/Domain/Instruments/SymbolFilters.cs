namespace TradeEngine.Domain.Instruments;

/// <summary>
/// A symbol's trading filters as Binance USD-M publishes them in exchangeInfo: PRICE_FILTER
/// (tickSize), LOT_SIZE (stepSize, minQty, maxQty), MARKET_LOT_SIZE (market min/max) and
/// MIN_NOTIONAL (notional). Checks return typed results; construction throws on nonsense.
/// </summary>
public readonly record struct SymbolFilters
{
    /// <summary>The smallest notional any order may have when a symbol states none (the plan's 5 USDT).</summary>
    public const decimal DefaultMinNotional = 5m;

    public SymbolFilters(
        decimal tickSize,
        decimal stepSize,
        decimal minQty,
        decimal maxQty,
        decimal marketMinQty,
        decimal marketMaxQty,
        decimal minNotional = DefaultMinNotional,
        int pricePrecision = 2,
        int quantityPrecision = 3)
    {
        TickSize = Guard.Positive(tickSize, "tickSize");
        StepSize = Guard.Positive(stepSize, "stepSize");
        MinQty = Guard.Positive(minQty, "minQty");
        MaxQty = Guard.Positive(maxQty, "maxQty");
        MarketMinQty = Guard.Positive(marketMinQty, "marketMinQty");
        MarketMaxQty = Guard.Positive(marketMaxQty, "marketMaxQty");
        MinNotional = Guard.NonNegative(minNotional, "minNotional");
        if (maxQty < minQty)
        {
            Guard.Fail("maxQty", "must not be below minQty");
        }

        if (marketMaxQty < marketMinQty)
        {
            Guard.Fail("marketMaxQty", "must not be below marketMinQty");
        }

        if (pricePrecision is < 0 or > 28 || quantityPrecision is < 0 or > 28)
        {
            Guard.Fail("precision", "must be from 0 to 28");
        }

        PricePrecision = pricePrecision;
        QuantityPrecision = quantityPrecision;
    }

    public decimal TickSize { get; }
    public decimal StepSize { get; }
    public decimal MinQty { get; }
    public decimal MaxQty { get; }
    public decimal MarketMinQty { get; }
    public decimal MarketMaxQty { get; }
    public decimal MinNotional { get; }
    public int PricePrecision { get; }
    public int QuantityPrecision { get; }

    /// <summary>
    /// LOT_SIZE / MARKET_LOT_SIZE and MIN_NOTIONAL for an order of <paramref name="quantity"/> at
    /// <paramref name="price"/>. Binance's step rule is (quantity − minQty) % stepSize == 0.
    /// </summary>
    public FilterCheck ValidateQuantity(decimal quantity, decimal price, bool isMarket = false)
    {
        if (quantity <= 0m || price <= 0m)
        {
            return new FilterCheck(FilterViolation.NotPositive);
        }

        var violations = FilterViolation.None;
        var min = isMarket ? MarketMinQty : MinQty;
        var max = isMarket ? MarketMaxQty : MaxQty;
        if ((quantity - MinQty) % StepSize != 0m)
        {
            violations |= FilterViolation.QuantityOffStep;
        }

        if (quantity < min)
        {
            violations |= FilterViolation.QuantityBelowMinimum;
        }

        if (quantity > max)
        {
            violations |= FilterViolation.QuantityAboveMaximum;
        }

        if (quantity * price < MinNotional)
        {
            violations |= FilterViolation.NotionalBelowMinimum;
        }

        return new FilterCheck(violations);
    }

    /// <summary>PRICE_FILTER: the price is positive and a whole number of ticks.</summary>
    public FilterCheck ValidatePrice(decimal price)
    {
        if (price <= 0m)
        {
            return new FilterCheck(FilterViolation.NotPositive);
        }

        return new FilterCheck(price % TickSize == 0m ? FilterViolation.None : FilterViolation.PriceOffTick);
    }

    /// <summary>
    /// The largest quantity on the symbol's lot grid (minQty + k × stepSize, Binance's step rule as
    /// <see cref="ValidateQuantity"/> applies it) not above <paramref name="quantity"/>; never rounds up. Where minQty is a
    /// multiple of the step (every symbol listed today) that is the largest multiple of the step; before, it was that
    /// always, and with a minQty off the step's multiples (0.0015 on a step of 0.001) a reduce by half of 0.0035 came out
    /// 0.001, off the grid, which the venue refuses. Below minQty the grid's point under it (or 0), which the size
    /// limits then judge.
    /// </summary>
    public decimal FloorToStep(decimal quantity) => FloorToLot(quantity, MinQty, StepSize);

    /// <summary><see cref="FloorToStep"/> for a lot grid given by its parts (a position that carries its minQty and step).</summary>
    internal static decimal FloorToLot(decimal quantity, decimal minQty, decimal stepSize) =>
        Math.Max(0m, minQty + FloorToIncrement(quantity - minQty, stepSize));

    /// <summary>Rounds a price down to the tick; callers that must round up say so with <see cref="CeilingToTick"/>.</summary>
    public decimal FloorToTick(decimal price) => FloorToIncrement(price, TickSize);

    public decimal CeilingToTick(decimal price)
    {
        var floor = FloorToIncrement(price, TickSize);
        return floor == price ? floor : floor + TickSize;
    }

    internal static decimal FloorToIncrement(decimal value, decimal increment) =>
        Math.Floor(value / increment) * increment;
}
