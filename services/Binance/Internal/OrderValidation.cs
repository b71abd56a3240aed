using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Internal;

/// <summary>
/// Refuses, before anything is sent, what the venue would reject on the symbol's filters (Domain's
/// <see cref="SymbolFilters"/> checks): quantity off the step or outside min/max, price off the tick or outside the
/// price filter, and a LIMIT order's notional below the minimum.
/// </summary>
internal static class OrderValidation
{
    public static void Validate(NewOrder order, SymbolInfo symbol)
    {
        if (order.Type == OrderType.Limit)
        {
            if (order.Price is not { } price)
            {
                throw Refuse(BinanceErrorKind.MandatoryParameter, "price", "a LIMIT order needs a price");
            }

            CheckPrice(price, symbol, "price");
            // Reduce-only orders are exempt from MIN_NOTIONAL on Binance.
            var check = symbol.Filters.ValidateQuantity(order.Quantity, price);
            Throw(check, order.ReduceOnly, order.Quantity, price);
        }
        else
        {
            if (order.Price is not null)
            {
                throw Refuse(BinanceErrorKind.InvalidParameter, "price", "a MARKET order takes no price");
            }

            // MIN_NOTIONAL of a market order depends on the fill price; the venue checks it (-4164).
            var check = symbol.Filters.ValidateQuantity(order.Quantity, decimal.MaxValue / 1_000_000_000m, isMarket: true);
            Throw(check, ignoreNotional: true, order.Quantity, null);
        }
    }

    public static void Validate(NewConditionalOrder order, SymbolInfo symbol)
    {
        CheckPrice(order.TriggerPrice, symbol, "triggerPrice");
        if (order.ClosePosition)
        {
            if (order.Quantity is not null)
            {
                throw Refuse(BinanceErrorKind.InvalidParameter, "quantity", "closePosition orders carry no quantity");
            }

            return;
        }

        if (order.Quantity is not { } qty)
        {
            throw Refuse(BinanceErrorKind.MandatoryParameter, "quantity", "a conditional order that does not close the position needs a quantity");
        }

        Throw(symbol.Filters.ValidateQuantity(qty, order.TriggerPrice, isMarket: true), ignoreNotional: true, qty, order.TriggerPrice);
    }

    private static void CheckPrice(decimal price, SymbolInfo symbol, string field)
    {
        var check = symbol.Filters.ValidatePrice(price);
        if (check.Has(FilterViolation.NotPositive))
        {
            throw Refuse(BinanceErrorKind.InvalidParameter, field, "must be greater than 0");
        }

        if (check.Has(FilterViolation.PriceOffTick))
        {
            throw Refuse(BinanceErrorKind.PriceOffTick, field, $"{VenueText.Format(price)} is not a multiple of the tick size {VenueText.Format(symbol.Filters.TickSize)}");
        }

        // A bound of 0 is no bound: Binance's PRICE_FILTER documents that minPrice or maxPrice set to 0 disables that
        // rule (Execution's instruments read it the same way). Taken as a bound, maxPrice 0 refused every trigger price.
        if ((symbol.MinPrice > 0m && price < symbol.MinPrice) || (symbol.MaxPrice > 0m && price > symbol.MaxPrice))
        {
            throw Refuse(BinanceErrorKind.InvalidParameter, field, symbol.MaxPrice > 0m
                ? $"{VenueText.Format(price)} is outside {VenueText.Format(symbol.MinPrice)}..{VenueText.Format(symbol.MaxPrice)}"
                : $"{VenueText.Format(price)} is below the minimum price {VenueText.Format(symbol.MinPrice)}");
        }
    }

    private static void Throw(FilterCheck check, bool ignoreNotional, decimal quantity, decimal? price)
    {
        if (check.Has(FilterViolation.NotPositive))
        {
            throw Refuse(BinanceErrorKind.QuantityTooSmall, "quantity", "must be greater than 0");
        }

        if (check.Has(FilterViolation.QuantityOffStep))
        {
            throw Refuse(BinanceErrorKind.QuantityOffStep, "quantity", $"{VenueText.Format(quantity)} is not on the step size");
        }

        if (check.Has(FilterViolation.QuantityBelowMinimum))
        {
            throw Refuse(BinanceErrorKind.QuantityTooSmall, "quantity", $"{VenueText.Format(quantity)} is below the minimum quantity");
        }

        if (check.Has(FilterViolation.QuantityAboveMaximum))
        {
            throw Refuse(BinanceErrorKind.QuantityTooLarge, "quantity", $"{VenueText.Format(quantity)} is above the maximum quantity");
        }

        if (!ignoreNotional && check.Has(FilterViolation.NotionalBelowMinimum))
        {
            throw Refuse(BinanceErrorKind.MinNotional, "quantity", $"notional {VenueText.Format(quantity * (price ?? 0m))} is below the symbol's minimum");
        }
    }

    private static BinanceRequestRefusedException Refuse(BinanceErrorKind kind, string field, string reason) => new(kind, field, reason);
}
