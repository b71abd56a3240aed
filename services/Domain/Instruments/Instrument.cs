using TradeEngine.Domain.Funding;

namespace TradeEngine.Domain.Instruments;

/// <summary>
/// Everything Domain needs to know about a perpetual: its filters, its leverage brackets and
/// its funding interval. The funding rate cap and floor are null when not known; the rate is
/// then used as published.
/// </summary>
public sealed record Instrument(
    Symbol Symbol,
    SymbolFilters Filters,
    BracketTable Brackets,
    FundingSchedule Funding,
    decimal? FundingRateCap = null,
    decimal? FundingRateFloor = null)
{
    public string BaseAsset { get; init; } = string.Empty;

    public string QuoteAsset { get; init; } = Money.Usdt;

    /// <summary>PRICE_FILTER's lowest price the venue accepts on an order; null when not known.</summary>
    public decimal? MinPrice { get; init; }

    /// <summary>PRICE_FILTER's highest price the venue accepts on an order; null when not known.</summary>
    public decimal? MaxPrice { get; init; }

    /// <summary>The venue's contract status (Binance exchangeInfo <c>status</c>): <see cref="TradingStatus"/> when it takes orders.</summary>
    public string Status { get; init; } = TradingStatus;

    /// <summary>False while the venue settles, delivers or has closed the contract: it refuses orders that open or add.</summary>
    public bool IsTrading => Status == TradingStatus;

    public const string TradingStatus = "TRADING";

    /// <summary>Highest leverage the exchange allows on this symbol (bracket 1).</summary>
    public int MaxLeverage => Brackets.MaxLeverage;
}
