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

    /// <summary>The asset the contract's margin, fees and PnL are in (Binance exchangeInfo <c>marginAsset</c>); empty when the venue did not say.</summary>
    public string MarginAsset { get; init; } = Money.Usdt;

    /// <summary>The venue's contract type (Binance exchangeInfo <c>contractType</c>); empty when the venue did not say.</summary>
    public string ContractType { get; init; } = PerpetualContract;

    public const string PerpetualContract = "PERPETUAL";

    /// <summary>
    /// Why positions are not opened on this contract here, or null when they are. Every balance, fee, funding payment
    /// and PnL in this system is a USDT amount, and only perpetuals are modelled: a USDC-margined perpetual (BTCUSDC)
    /// settles in USDC, and a delivery contract (or a perpetual being delisted, PERPETUAL_DELIVERING) is not opened. An
    /// existing position on one can still be closed or reduced.
    /// </summary>
    public string? NotOpenedReason =>
        ContractType != PerpetualContract
            ? (ContractType.Length == 0 ? "the venue does not state its contract type" : $"it is a {ContractType} contract")
                + "; only USDT-margined perpetuals are opened here"
            : NotUsdtReason;

    /// <summary>
    /// Why the contract's amounts are not USDT (margined in another asset, or the venue silent on it), or null when they
    /// are: a position on it is not booked in the USDT Ledger, and is not in the USDT margin a margin alert is about.
    /// </summary>
    public string? NotUsdtReason =>
        MarginAsset == Money.Usdt
            ? null
            : (MarginAsset.Length == 0 ? "the venue does not state its margin asset" : $"it is margined in {MarginAsset}")
                + "; only USDT-margined perpetuals are opened here (every balance, fee and PnL is booked in USDT)";

    /// <summary>Highest leverage the exchange allows on this symbol (bracket 1).</summary>
    public int MaxLeverage => Brackets.MaxLeverage;
}
