using TradeEngine.Domain.Instruments;

namespace TradeEngine.PaperExchange.Markets;

/// <summary>What the simulator knows about a symbol: filters and brackets (from Domain), price band, funding settings.</summary>
public sealed record MarketDefinition(
    string Symbol,
    string BaseAsset,
    SymbolFilters Filters,
    BracketTable Brackets,
    decimal MinPrice,
    decimal MaxPrice,
    int FundingIntervalHours,
    decimal FundingRateCap,
    decimal FundingRateFloor,
    decimal DefaultFundingRate,
    decimal InitialPrice,
    decimal Volatility,
    decimal LiquidationFee,
    long OnboardDate,
    IReadOnlyList<decimal> Replay)
{
    /// <summary>PERCENT_PRICE multiplierUp: a LIMIT BUY may be priced at most mark price × this.</summary>
    public decimal MultiplierUp { get; init; } = 1.0500m;

    /// <summary>PERCENT_PRICE multiplierDown: a LIMIT SELL may be priced at least mark price × this.</summary>
    public decimal MultiplierDown { get; init; } = 0.9500m;
}
