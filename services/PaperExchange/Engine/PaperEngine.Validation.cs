using TradeEngine.PaperExchange.Markets;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    /// <summary>
    /// A symbol that is not TRADING (settling, delivering, closed) takes no order that could open or add: -4140, as
    /// Binance answers. Reduce-only and closePosition orders still go through, so a holder can get out.
    /// </summary>
    private static void CheckStatus(MarketState market, bool reducing)
    {
        if (!reducing && market.Status != MarketStatuses.Trading)
        {
            throw VenueErrors.InvalidSymbolStatus();
        }
    }

    /// <summary>
    /// One-way mode: positionSide may be absent or BOTH; LONG or SHORT get -4061. Hedge mode: absent or BOTH get -4061,
    /// as Binance answers; LONG or SHORT get it too, as the simulator has no hedge book (<see cref="Options.PaperOptions.DualSidePosition"/>).
    /// Any other value: -1130.
    /// </summary>
    private void CheckPositionSide(VenueParams p)
    {
        var side = p.Get("positionSide");
        if (side is not (null or "BOTH" or "LONG" or "SHORT"))
        {
            throw VenueErrors.IllegalValue("positionSide");
        }

        if (_dualSide || side is "LONG" or "SHORT")
        {
            throw VenueErrors.PositionSideMismatch();
        }
    }

    private static int SideSign(string side) => side switch
    {
        "BUY" => 1,
        "SELL" => -1,
        _ => throw VenueErrors.InvalidSide(),
    };

    internal static decimal CheckQuantity(MarketDefinition def, decimal qty, bool isMarket)
    {
        if (qty <= 0m)
        {
            throw VenueErrors.QuantityNotPositive();
        }

        if (qty.Scale > def.Filters.QuantityPrecision && qty != Math.Round(qty, def.Filters.QuantityPrecision))
        {
            throw VenueErrors.BadPrecision();
        }

        if ((qty - def.Filters.MinQty) % def.Filters.StepSize != 0m)
        {
            throw VenueErrors.QtyOffStep();
        }

        if (qty < (isMarket ? def.Filters.MarketMinQty : def.Filters.MinQty))
        {
            throw VenueErrors.QuantityBelowMinimum();
        }

        if (qty > (isMarket ? def.Filters.MarketMaxQty : def.Filters.MaxQty))
        {
            throw VenueErrors.QuantityTooLarge();
        }

        return qty;
    }

    private static decimal CheckPrice(MarketDefinition def, decimal price)
    {
        if (price <= 0m)
        {
            throw VenueErrors.IllegalValue("price");
        }

        if (price.Scale > def.Filters.PricePrecision && price != Math.Round(price, def.Filters.PricePrecision))
        {
            throw VenueErrors.BadPrecision();
        }

        if (!def.Filters.ValidatePrice(price).IsValid)
        {
            throw VenueErrors.PriceOffTick();
        }

        if (price < def.MinPrice)
        {
            throw VenueErrors.PriceTooLow();
        }

        return price > def.MaxPrice ? throw VenueErrors.PriceTooHigh() : price;
    }

    /// <summary>
    /// PERCENT_PRICE (USD-M, on the mark price): a BUY must be priced at most mark × multiplierUp (-4016), a SELL at
    /// least mark × multiplierDown (-4024). Each side has one bound only: a BUY far below the mark may rest.
    /// </summary>
    private static void CheckPercentPrice(MarketDefinition def, int sign, decimal price, decimal markPrice)
    {
        if (sign > 0 && price > markPrice * def.MultiplierUp)
        {
            throw VenueErrors.PriceAboveMultiplierCap();
        }

        if (sign < 0 && price < markPrice * def.MultiplierDown)
        {
            throw VenueErrors.PriceBelowMultiplierFloor();
        }
    }
}
