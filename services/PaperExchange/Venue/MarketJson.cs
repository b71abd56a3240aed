using System.Text.Json;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Venue;

/// <summary>Market-data shapes: exchangeInfo, premiumIndex, ticker price, leverage brackets.</summary>
public static class MarketJson
{
    /// <summary>exchangeInfo's MAX_NUM_ORDERS: open orders per symbol (-2025 past it).</summary>
    public const int MaxOpenOrdersPerSymbol = 200;

    /// <summary>exchangeInfo's MAX_NUM_ALGO_ORDERS: open conditional (algo) orders per symbol (-4045 past it).</summary>
    public const int MaxAlgoOrdersPerSymbol = 10;

    /// <param name="statusOf">The symbol's contract status (exchangeInfo <c>status</c>).</param>
    public static void ExchangeInfo(
        Utf8JsonWriter w, IEnumerable<MarketDefinition> markets, Func<string, string> statusOf, long now, PaperOptions options)
    {
        w.WriteStartObject();
        w.WriteStartArray("exchangeFilters");
        w.WriteEndArray();
        w.WriteStartArray("rateLimits");
        RateLimit(w, "REQUEST_WEIGHT", "MINUTE", 1, options.RequestWeightLimitPerMinute);
        RateLimit(w, "ORDERS", "MINUTE", 1, options.OrderLimitPerMinute);
        RateLimit(w, "ORDERS", "SECOND", 10, options.OrderLimitPer10Seconds);
        w.WriteEndArray();
        w.WriteNumber("serverTime", now);
        w.WriteStartArray("assets");
        w.WriteStartObject();
        w.WriteString("asset", "USDT");
        w.WriteBoolean("marginAvailable", true);
        w.WriteString("autoAssetExchange", "0");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("symbols");
        foreach (var d in markets)
        {
            Symbol(w, d, statusOf(d.Symbol));
        }

        w.WriteEndArray();
        w.WriteString("timezone", "UTC");
        w.WriteEndObject();
    }

    private static void RateLimit(Utf8JsonWriter w, string type, string interval, int num, int limit)
    {
        w.WriteStartObject();
        w.WriteString("interval", interval);
        w.WriteNumber("intervalNum", num);
        w.WriteNumber("limit", limit);
        w.WriteString("rateLimitType", type);
        w.WriteEndObject();
    }

    private static void Symbol(Utf8JsonWriter w, MarketDefinition d, string status)
    {
        var f = d.Filters;
        w.WriteStartObject();
        w.WriteString("symbol", d.Symbol);
        w.WriteString("pair", d.Symbol);
        w.WriteString("contractType", "PERPETUAL");
        w.WriteNumber("deliveryDate", 4133404800000);
        w.WriteNumber("onboardDate", d.OnboardDate);
        w.WriteString("status", status);
        w.WriteString("maintMarginPercent", "2.5000");
        w.WriteString("requiredMarginPercent", "5.0000");
        w.WriteString("baseAsset", d.BaseAsset);
        w.WriteString("quoteAsset", "USDT");
        w.WriteString("marginAsset", "USDT");
        w.WriteNumber("pricePrecision", f.PricePrecision);
        w.WriteNumber("quantityPrecision", f.QuantityPrecision);
        w.WriteNumber("baseAssetPrecision", 8);
        w.WriteNumber("quotePrecision", 8);
        w.WriteString("underlyingType", "COIN");
        w.WriteStartArray("underlyingSubType");
        w.WriteStringValue(d.BaseAsset == "BTC" ? "PoW" : "Layer-1");
        w.WriteEndArray();
        w.WriteNumber("settlePlan", 0);
        w.WriteString("triggerProtect", "0.0500");
        w.WriteStartArray("filters");
        w.WriteStartObject();
        w.WriteString("filterType", "PRICE_FILTER");
        w.WriteString("maxPrice", VenueJson.Text(d.MaxPrice));
        w.WriteString("minPrice", VenueJson.Text(d.MinPrice));
        w.WriteString("tickSize", VenueJson.Text(f.TickSize));
        w.WriteEndObject();
        LotSize(w, "LOT_SIZE", f.MaxQty, f.MinQty, f.StepSize);
        LotSize(w, "MARKET_LOT_SIZE", f.MarketMaxQty, f.MarketMinQty, f.StepSize);
        w.WriteStartObject();
        w.WriteString("filterType", "MAX_NUM_ORDERS");
        w.WriteNumber("limit", MaxOpenOrdersPerSymbol);
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("filterType", "MAX_NUM_ALGO_ORDERS");
        w.WriteNumber("limit", MaxAlgoOrdersPerSymbol);
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("filterType", "MIN_NOTIONAL");
        w.WriteString("notional", VenueJson.Text(f.MinNotional));
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("filterType", "PERCENT_PRICE");
        w.WriteString("multiplierUp", VenueJson.Fixed(d.MultiplierUp, 4));
        w.WriteString("multiplierDown", VenueJson.Fixed(d.MultiplierDown, 4));
        w.WriteString("multiplierDecimal", "4");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("OrderType");
        foreach (var t in (string[])["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"])
        {
            w.WriteStringValue(t);
        }

        w.WriteEndArray();
        w.WriteStartArray("timeInForce");
        foreach (var t in (string[])["GTC", "IOC", "FOK", "GTX"])
        {
            w.WriteStringValue(t);
        }

        w.WriteEndArray();
        w.WriteString("liquidationFee", VenueJson.Fixed(d.LiquidationFee, 6));
        w.WriteString("marketTakeBound", "0.05");
        w.WriteEndObject();
    }

    private static void LotSize(Utf8JsonWriter w, string type, decimal max, decimal min, decimal step)
    {
        w.WriteStartObject();
        w.WriteString("filterType", type);
        w.WriteString("maxQty", VenueJson.Text(max));
        w.WriteString("minQty", VenueJson.Text(min));
        w.WriteString("stepSize", VenueJson.Text(step));
        w.WriteEndObject();
    }

    public static void PremiumIndex(Utf8JsonWriter w, MarketState m, long now)
    {
        w.WriteStartObject();
        w.WriteString("symbol", m.Symbol);
        w.WriteString("markPrice", VenueJson.Fixed(m.MarkPrice, 8));
        w.WriteString("indexPrice", VenueJson.Fixed(m.IndexPrice, 8));
        w.WriteString("estimatedSettlePrice", VenueJson.Fixed(m.IndexPrice, 8));
        w.WriteString("lastFundingRate", VenueJson.Fixed(m.FundingRate, 8));
        w.WriteString("interestRate", "0.00010000");
        w.WriteNumber("nextFundingTime", m.NextFundingTime);
        w.WriteNumber("time", now);
        w.WriteEndObject();
    }

    public static void Ticker(Utf8JsonWriter w, MarketState m, long now)
    {
        w.WriteStartObject();
        w.WriteString("symbol", m.Symbol);
        w.WriteString("price", VenueJson.Text(m.MarkPrice));
        w.WriteNumber("time", now);
        w.WriteEndObject();
    }

    /// <summary>Leverage brackets are JSON numbers on Binance (unlike most decimals); written from their exact text.</summary>
    public static void Brackets(Utf8JsonWriter w, MarketDefinition d)
    {
        w.WriteStartObject();
        w.WriteString("symbol", d.Symbol);
        w.WriteStartArray("brackets");
        foreach (var b in d.Brackets.Brackets)
        {
            w.WriteStartObject();
            w.WriteNumber("bracket", b.Bracket);
            w.WriteNumber("initialLeverage", b.InitialLeverage);
            w.WritePropertyName("notionalCap");
            w.WriteRawValue(VenueJson.Text(b.NotionalCap));
            w.WritePropertyName("notionalFloor");
            w.WriteRawValue(VenueJson.Text(b.NotionalFloor));
            w.WritePropertyName("maintMarginRatio");
            w.WriteRawValue(VenueJson.Text(b.MaintMarginRatio));
            w.WritePropertyName("cum");
            w.WriteRawValue(VenueJson.Text(b.Cum));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
