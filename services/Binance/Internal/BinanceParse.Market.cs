using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Internal;

internal static partial class BinanceParse
{
    public static DateTimeOffset ServerTime(ServerTimeDto dto) => Time("time", "serverTime", dto.ServerTime);

    public static ExchangeInfo ExchangeInfo(ExchangeInfoDto dto)
    {
        const string ep = "exchangeInfo";
        var limits = (dto.RateLimits ?? []).Select(r => new RateLimit(
            Text(ep, "rateLimitType", r.RateLimitType), Text(ep, "interval", r.Interval), Required(ep, "intervalNum", r.IntervalNum),
            Required(ep, "limit", r.Limit))).ToList();
        var symbols = new List<SymbolInfo>();
        foreach (var s in dto.Symbols ?? [])
        {
            var symbol = Text(ep, "symbol", s.Symbol);
            var filters = s.Filters ?? [];
            FilterDto Filter(string type) => filters.FirstOrDefault(f => f.FilterType == type)
                ?? throw new BinanceProtocolException(ep, $"{symbol}.filters.{type}", "missing");
            var price = Filter("PRICE_FILTER");
            var lot = Filter("LOT_SIZE");
            var market = filters.FirstOrDefault(f => f.FilterType == "MARKET_LOT_SIZE") ?? lot;
            var notional = filters.FirstOrDefault(f => f.FilterType == "MIN_NOTIONAL");
            var symbolFilters = Domain(ep, symbol, () => new SymbolFilters(
                tickSize: Dec(ep, $"{symbol}.tickSize", price.TickSize),
                stepSize: Dec(ep, $"{symbol}.stepSize", lot.StepSize),
                minQty: Dec(ep, $"{symbol}.minQty", lot.MinQty),
                maxQty: Dec(ep, $"{symbol}.maxQty", lot.MaxQty),
                marketMinQty: Dec(ep, $"{symbol}.MARKET_LOT_SIZE.minQty", market.MinQty),
                marketMaxQty: Dec(ep, $"{symbol}.MARKET_LOT_SIZE.maxQty", market.MaxQty),
                minNotional: notional is null ? 0m : Dec(ep, $"{symbol}.notional", notional.Notional),
                pricePrecision: Required(ep, $"{symbol}.pricePrecision", s.PricePrecision),
                quantityPrecision: Required(ep, $"{symbol}.quantityPrecision", s.QuantityPrecision)));
            symbols.Add(new SymbolInfo(
                symbol,
                Text(ep, $"{symbol}.status", s.Status),
                s.ContractType ?? "",
                s.BaseAsset ?? "",
                s.QuoteAsset ?? "",
                s.MarginAsset ?? "",
                symbolFilters,
                Dec(ep, $"{symbol}.minPrice", price.MinPrice),
                Dec(ep, $"{symbol}.maxPrice", price.MaxPrice),
                OptionalDec(ep, $"{symbol}.liquidationFee", s.LiquidationFee) ?? 0m));
        }

        return new ExchangeInfo(Time(ep, "serverTime", dto.ServerTime), limits, symbols);
    }

    public static PremiumIndex PremiumIndex(PremiumIndexDto d)
    {
        const string ep = "premiumIndex";
        return new PremiumIndex(
            Text(ep, "symbol", d.Symbol),
            Price(ep, "markPrice", d.MarkPrice),
            Dec(ep, "indexPrice", d.IndexPrice),
            OptionalDec(ep, "estimatedSettlePrice", d.EstimatedSettlePrice) ?? 0m,
            Rate(ep, "lastFundingRate", d.LastFundingRate),
            OptionalDec(ep, "interestRate", d.InterestRate) ?? 0m,
            Time(ep, "nextFundingTime", d.NextFundingTime),
            Time(ep, "time", d.Time));
    }

    public static FundingRateEntry FundingRate(FundingRateDto d)
    {
        const string ep = "fundingRate";
        return new FundingRateEntry(
            Text(ep, "symbol", d.Symbol),
            Rate(ep, "fundingRate", d.FundingRate),
            Time(ep, "fundingTime", d.FundingTime),
            string.IsNullOrEmpty(d.MarkPrice) ? null : Price(ep, "markPrice", d.MarkPrice));
    }

    /// <summary>
    /// A mark price is above 0: a mark of 0 or less is the venue answering nonsense, and passed on it surfaced as the
    /// caller's error (Funding's estimate refused "price: must be greater than 0", a price the caller never sent).
    /// </summary>
    private static decimal Price(string ep, string field, string? text)
    {
        var price = Dec(ep, field, text);
        return price > 0m ? price : throw new BinanceProtocolException(ep, field, $"{text} is not a price above 0");
    }

    /// <summary>
    /// A funding rate lies strictly between -1 and 1 (a rate of 1 would move the whole notional each settlement):
    /// anything else is the venue answering nonsense, not a figure to compute with or pass on as the caller's.
    /// </summary>
    private static decimal Rate(string ep, string field, string? text)
    {
        var rate = Dec(ep, field, text);
        return rate > -1m && rate < 1m ? rate : throw new BinanceProtocolException(ep, field, $"{text} is not a rate between -1 and 1");
    }

    public static FundingInfo FundingInfo(FundingInfoDto d)
    {
        const string ep = "fundingInfo";
        var hours = Required(ep, "fundingIntervalHours", d.FundingIntervalHours);
        if (hours <= 0)
        {
            throw new BinanceProtocolException(ep, "fundingIntervalHours", $"{hours} is not a positive interval");
        }

        // The cap and floor bound a funding rate, so each is one (inside (-1, 1)), and the floor is not above the cap:
        // otherwise every rate clamped between them, and every estimate made with them, would be nonsense.
        var cap = Rate(ep, "adjustedFundingRateCap", d.AdjustedFundingRateCap);
        var floor = Rate(ep, "adjustedFundingRateFloor", d.AdjustedFundingRateFloor);
        if (floor > cap)
        {
            throw new BinanceProtocolException(ep, "adjustedFundingRateFloor",
                $"{d.AdjustedFundingRateFloor} is above adjustedFundingRateCap {d.AdjustedFundingRateCap}");
        }

        return new FundingInfo(Text(ep, "symbol", d.Symbol), cap, floor, hours);
    }

    public static TickerPrice Ticker(TickerPriceDto d)
    {
        const string ep = "ticker/price";
        return new TickerPrice(Text(ep, "symbol", d.Symbol), Dec(ep, "price", d.Price), Time(ep, "time", d.Time));
    }

    public static SymbolBrackets Brackets(SymbolBracketsDto d)
    {
        const string ep = "leverageBracket";
        var brackets = (d.Brackets ?? []).Select(b => Domain(ep, "brackets", () => new LeverageBracket(
            Required(ep, "bracket", b.Bracket),
            Required(ep, "initialLeverage", b.InitialLeverage),
            Dec(ep, "notionalCap", b.NotionalCap),
            Dec(ep, "notionalFloor", b.NotionalFloor),
            Dec(ep, "maintMarginRatio", b.MaintMarginRatio),
            Dec(ep, "cum", b.Cum)))).OrderBy(b => b.Bracket).ToList();
        return new SymbolBrackets(Text(ep, "symbol", d.Symbol), OptionalDec(ep, "notionalCoef", d.NotionalCoef), brackets);
    }
}
