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
    IReadOnlyList<decimal> Replay);
