using System.Globalization;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;
using TradeEngine.Domain.Instruments;
using MarginType = TradeEngine.Domain.MarginType;

namespace TradeEngine.Binance.Internal;

/// <summary>
/// Pure functions from venue DTOs (strings as received) to the public models. A malformed value raises
/// <see cref="BinanceProtocolException"/> naming the endpoint and the field; nothing is defaulted silently.
/// </summary>
internal static class BinanceParse
{
    public static decimal Dec(string endpoint, string field, string? text)
    {
        if (!VenueText.TryParseDecimal(text, out var value, out var error))
        {
            throw new BinanceProtocolException(endpoint, field, error ?? "malformed decimal");
        }

        return value;
    }

    /// <summary>Builds a Domain value; its validation failure becomes a protocol error naming the field.</summary>
    private static T Domain<T>(string endpoint, string field, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (TradeEngine.Domain.DomainException e)
        {
            throw new BinanceProtocolException(endpoint, field, e.Message, e);
        }
    }

    public static decimal? OptionalDec(string endpoint, string field, string? text) =>
        string.IsNullOrEmpty(text) ? null : Dec(endpoint, field, text);

    /// <summary>A number or flag the venue must send: absent (or JSON null) is a protocol error, not 0 or false.</summary>
    public static T Required<T>(string endpoint, string field, T? value)
        where T : struct =>
        value ?? throw new BinanceProtocolException(endpoint, field, "missing");

    /// <summary>A required time in Unix milliseconds; one outside DateTimeOffset's range is a protocol error too.</summary>
    public static DateTimeOffset Time(string endpoint, string field, long? millis)
    {
        var ms = Required(endpoint, field, millis);
        try
        {
            return VenueText.FromMillis(ms);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new BinanceProtocolException(endpoint, field, $"{ms} is not a time in milliseconds", e);
        }
    }

    public static string Text(string endpoint, string field, string? text) =>
        string.IsNullOrEmpty(text) ? throw new BinanceProtocolException(endpoint, field, "missing") : text;

    public static OrderSide Side(string endpoint, string? text) => text switch
    {
        "BUY" => OrderSide.Buy,
        "SELL" => OrderSide.Sell,
        _ => throw new BinanceProtocolException(endpoint, "side", $"unknown side '{text}'"),
    };

    public static OrderStatus Status(string endpoint, string? text) => text switch
    {
        "NEW" => OrderStatus.New,
        "PARTIALLY_FILLED" => OrderStatus.PartiallyFilled,
        "FILLED" => OrderStatus.Filled,
        "CANCELED" => OrderStatus.Canceled,
        "REJECTED" => OrderStatus.Rejected,
        "EXPIRED" => OrderStatus.Expired,
        "EXPIRED_IN_MATCH" => OrderStatus.ExpiredInMatch,
        _ => throw new BinanceProtocolException(endpoint, "status", $"unknown status '{text}'"),
    };

    public static AlgoStatus AlgoStatusOf(string endpoint, string? text) => text switch
    {
        "NEW" => AlgoStatus.New,
        "CANCELED" => AlgoStatus.Canceled,
        "TRIGGERING" => AlgoStatus.Triggering,
        "TRIGGERED" => AlgoStatus.Triggered,
        "FINISHED" => AlgoStatus.Finished,
        "REJECTED" => AlgoStatus.Rejected,
        "EXPIRED" => AlgoStatus.Expired,
        _ => throw new BinanceProtocolException(endpoint, "algoStatus", $"unknown status '{text}'"),
    };

    public static MarginType Margin(string endpoint, string? text) => text?.ToUpperInvariant() switch
    {
        "ISOLATED" => MarginType.Isolated,
        "CROSS" or "CROSSED" => MarginType.Cross,
        _ => throw new BinanceProtocolException(endpoint, "marginType", $"unknown margin type '{text}'"),
    };

    public static IncomeType Income(string? text) => text switch
    {
        "TRANSFER" => IncomeType.Transfer,
        "REALIZED_PNL" => IncomeType.RealizedPnl,
        "FUNDING_FEE" => IncomeType.FundingFee,
        "COMMISSION" => IncomeType.Commission,
        "INSURANCE_CLEAR" => IncomeType.InsuranceClear,
        "INTERNAL_TRANSFER" => IncomeType.InternalTransfer,
        "CROSS_COLLATERAL_TRANSFER" => IncomeType.CrossCollateralTransfer,
        "STRATEGY_UMFUTURES_TRANSFER" => IncomeType.StrategyUmFuturesTransfer,
        "COIN_SWAP_DEPOSIT" => IncomeType.CoinSwapDeposit,
        "COIN_SWAP_WITHDRAW" => IncomeType.CoinSwapWithdraw,
        _ => IncomeType.Other,
    };

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

    public static OrderInfo Order(OrderDto d)
    {
        const string ep = "order";
        return new OrderInfo(
            Text(ep, "symbol", d.Symbol),
            Required(ep, "orderId", d.OrderId),
            Text(ep, "clientOrderId", d.ClientOrderId),
            Side(ep, d.Side),
            Text(ep, "type", d.Type),
            Status(ep, d.Status),
            Dec(ep, "origQty", d.OrigQty),
            Dec(ep, "executedQty", d.ExecutedQty),
            Dec(ep, "price", d.Price),
            Dec(ep, "avgPrice", d.AvgPrice),
            Dec(ep, "cumQuote", d.CumQuote),
            OptionalDec(ep, "stopPrice", d.StopPrice) ?? 0m,
            Required(ep, "reduceOnly", d.ReduceOnly),
            Required(ep, "closePosition", d.ClosePosition),
            d.PositionSide ?? "BOTH",
            d.TimeInForce ?? "",
            // Every order answer carries updateTime; a query's also carries time (the creation), which stands in when
            // updateTime is 0 (not yet updated).
            Time(ep, "updateTime", d.UpdateTime is 0 && d.Time is { } created ? created : d.UpdateTime));
    }

    public static ConditionalOrderInfo AlgoOrder(AlgoOrderDto d)
    {
        const string ep = "algoOrder";
        var type = d.OrderType switch
        {
            "STOP_MARKET" => ConditionalOrderType.StopMarket,
            "TAKE_PROFIT_MARKET" => ConditionalOrderType.TakeProfitMarket,
            _ => throw new BinanceProtocolException(ep, "orderType", $"unsupported conditional type '{d.OrderType}'"),
        };
        return new ConditionalOrderInfo(
            Text(ep, "symbol", d.Symbol),
            Required(ep, "algoId", d.AlgoId),
            Text(ep, "clientAlgoId", d.ClientAlgoId),
            Side(ep, d.Side),
            type,
            AlgoStatusOf(ep, d.AlgoStatus),
            Dec(ep, "triggerPrice", d.TriggerPrice),
            OptionalDec(ep, "quantity", d.Quantity) ?? 0m,
            Required(ep, "closePosition", d.ClosePosition),
            Required(ep, "reduceOnly", d.ReduceOnly),
            d.WorkingType == "CONTRACT_PRICE" ? WorkingType.ContractPrice : WorkingType.MarkPrice,
            Time(ep, "createTime", d.CreateTime),
            Time(ep, "updateTime", d.UpdateTime));
    }

    public static LeverageSetting Leverage(LeverageDto d)
    {
        const string ep = "leverage";
        return new LeverageSetting(Text(ep, "symbol", d.Symbol), Required(ep, "leverage", d.Leverage), Dec(ep, "maxNotionalValue", d.MaxNotionalValue));
    }

    public static PositionRisk Position(PositionRiskDto d)
    {
        const string ep = "positionRisk";
        if (!int.TryParse(d.Leverage, NumberStyles.None, CultureInfo.InvariantCulture, out var leverage))
        {
            throw new BinanceProtocolException(ep, "leverage", $"'{d.Leverage}' is not an integer");
        }

        return new PositionRisk(
            Text(ep, "symbol", d.Symbol),
            Dec(ep, "positionAmt", d.PositionAmt),
            Dec(ep, "entryPrice", d.EntryPrice),
            OptionalDec(ep, "breakEvenPrice", d.BreakEvenPrice) ?? 0m,
            Dec(ep, "markPrice", d.MarkPrice),
            Dec(ep, "unRealizedProfit", d.UnRealizedProfit),
            Dec(ep, "liquidationPrice", d.LiquidationPrice),
            leverage,
            Dec(ep, "maxNotionalValue", d.MaxNotionalValue),
            Margin(ep, d.MarginType),
            Dec(ep, "isolatedMargin", d.IsolatedMargin),
            OptionalDec(ep, "isolatedWallet", d.IsolatedWallet) ?? 0m,
            Dec(ep, "notional", d.Notional),
            d.PositionSide ?? "BOTH",
            Time(ep, "updateTime", d.UpdateTime));
    }

    public static AccountBalance Balance(BalanceDto d)
    {
        const string ep = "balance";
        return new AccountBalance(
            Text(ep, "asset", d.Asset),
            Dec(ep, "balance", d.Balance),
            Dec(ep, "crossWalletBalance", d.CrossWalletBalance),
            Dec(ep, "crossUnPnl", d.CrossUnPnl),
            Dec(ep, "availableBalance", d.AvailableBalance),
            Dec(ep, "maxWithdrawAmount", d.MaxWithdrawAmount),
            Time(ep, "updateTime", d.UpdateTime));
    }

    public static AccountInfo Account(AccountDto d)
    {
        const string ep = "account";
        var assets = (d.Assets ?? []).Select(a => new AccountBalance(
            Text(ep, "assets.asset", a.Asset),
            Dec(ep, "assets.walletBalance", a.WalletBalance),
            Dec(ep, "assets.crossWalletBalance", a.CrossWalletBalance),
            Dec(ep, "assets.crossUnPnl", a.CrossUnPnl),
            Dec(ep, "assets.availableBalance", a.AvailableBalance),
            Dec(ep, "assets.maxWithdrawAmount", a.MaxWithdrawAmount),
            Time(ep, "assets.updateTime", a.UpdateTime))).ToList();
        var positions = (d.Positions ?? []).Select(p => new AccountPosition(
            Text(ep, "positions.symbol", p.Symbol),
            p.PositionSide ?? "BOTH",
            Dec(ep, "positions.positionAmt", p.PositionAmt),
            Dec(ep, "positions.unrealizedProfit", p.UnrealizedProfit),
            Dec(ep, "positions.isolatedMargin", p.IsolatedMargin),
            Dec(ep, "positions.notional", p.Notional),
            Dec(ep, "positions.isolatedWallet", p.IsolatedWallet),
            Dec(ep, "positions.initialMargin", p.InitialMargin),
            Dec(ep, "positions.maintMargin", p.MaintMargin),
            Time(ep, "positions.updateTime", p.UpdateTime))).ToList();
        return new AccountInfo(
            Dec(ep, "totalInitialMargin", d.TotalInitialMargin),
            Dec(ep, "totalMaintMargin", d.TotalMaintMargin),
            Dec(ep, "totalWalletBalance", d.TotalWalletBalance),
            Dec(ep, "totalUnrealizedProfit", d.TotalUnrealizedProfit),
            Dec(ep, "totalMarginBalance", d.TotalMarginBalance),
            Dec(ep, "totalCrossWalletBalance", d.TotalCrossWalletBalance),
            Dec(ep, "availableBalance", d.AvailableBalance),
            Dec(ep, "maxWithdrawAmount", d.MaxWithdrawAmount),
            assets,
            positions);
    }

    public static IncomeEntry Income(IncomeDto d)
    {
        const string ep = "income";
        var raw = Text(ep, "incomeType", d.IncomeType);
        return new IncomeEntry(
            d.Symbol ?? "",
            Income(raw),
            raw,
            Dec(ep, "income", d.Income),
            Text(ep, "asset", d.Asset),
            d.Info ?? "",
            Time(ep, "time", d.Time),
            Required(ep, "tranId", d.TranId),
            d.TradeId ?? "");
    }

    public static UserTrade Trade(UserTradeDto d)
    {
        const string ep = "userTrades";
        return new UserTrade(
            Text(ep, "symbol", d.Symbol),
            Required(ep, "id", d.Id),
            Required(ep, "orderId", d.OrderId),
            Side(ep, d.Side),
            Dec(ep, "price", d.Price),
            Dec(ep, "qty", d.Qty),
            Dec(ep, "quoteQty", d.QuoteQty),
            Dec(ep, "realizedPnl", d.RealizedPnl),
            Dec(ep, "commission", d.Commission),
            d.CommissionAsset ?? "",
            Required(ep, "buyer", d.Buyer),
            Required(ep, "maker", d.Maker),
            d.PositionSide ?? "BOTH",
            Time(ep, "time", d.Time));
    }
}
