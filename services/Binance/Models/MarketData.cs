using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Models;

public sealed record RateLimit(string Type, string Interval, int IntervalNum, int Limit)
{
    public TimeSpan Window => Interval switch
    {
        "SECOND" => TimeSpan.FromSeconds(IntervalNum),
        "MINUTE" => TimeSpan.FromMinutes(IntervalNum),
        "HOUR" => TimeSpan.FromHours(IntervalNum),
        "DAY" => TimeSpan.FromDays(IntervalNum),
        _ => TimeSpan.FromMinutes(IntervalNum),
    };
}

/// <summary>One tradable symbol: its trading filters as Domain models them, plus what the venue says about it.</summary>
public sealed record SymbolInfo(
    string Symbol,
    string Status,
    string ContractType,
    string BaseAsset,
    string QuoteAsset,
    string MarginAsset,
    SymbolFilters Filters,
    decimal MinPrice,
    decimal MaxPrice,
    decimal LiquidationFee);

public sealed record ExchangeInfo(DateTimeOffset ServerTime, IReadOnlyList<RateLimit> RateLimits, IReadOnlyList<SymbolInfo> Symbols)
{
    public SymbolInfo? Find(string symbol) => Symbols.FirstOrDefault(s => string.Equals(s.Symbol, symbol, StringComparison.Ordinal));
}

/// <summary>
/// <c>/fapi/v1/premiumIndex</c>. <see cref="LastFundingRate"/> is the latest funding rate; positive means longs pay shorts.
/// </summary>
public sealed record PremiumIndex(
    string Symbol,
    decimal MarkPrice,
    decimal IndexPrice,
    decimal EstimatedSettlePrice,
    decimal LastFundingRate,
    decimal InterestRate,
    DateTimeOffset NextFundingTime,
    DateTimeOffset Time);

/// <summary>One settled funding: the rate and the mark price it was charged at.</summary>
public sealed record FundingRateEntry(string Symbol, decimal FundingRate, DateTimeOffset FundingTime, decimal? MarkPrice);

/// <summary>
/// <c>/fapi/v1/fundingInfo</c> lists only symbols whose funding was adjusted; a symbol missing here has the
/// default 8 h interval.
/// </summary>
public sealed record FundingInfo(string Symbol, decimal AdjustedFundingRateCap, decimal AdjustedFundingRateFloor, int FundingIntervalHours);

/// <summary>
/// <c>/fapi/v1/fundingInfo</c> as read: the entries that parsed, and the symbols whose entry did not (a cap outside
/// (-1, 1), a floor above the cap, an interval that is no interval), each with the reason. One malformed entry leaves
/// its own symbol out, not the whole list: the instrument catalog reads the list for every symbol, and a strict parse
/// of the whole answer made every symbol unavailable until the venue mended one. An entry without a symbol cannot be
/// attributed and still fails the read.
/// </summary>
public sealed class FundingInfoList(IList<FundingInfo> entries, IReadOnlyList<(string Symbol, string Reason)> refused)
    : System.Collections.ObjectModel.ReadOnlyCollection<FundingInfo>(entries)
{
    public IReadOnlyList<(string Symbol, string Reason)> Refused { get; } = refused;
}

public sealed record TickerPrice(string Symbol, decimal Price, DateTimeOffset Time);

public sealed record SymbolBrackets(string Symbol, decimal? NotionalCoef, IReadOnlyList<LeverageBracket> Brackets)
{
    /// <summary>The highest initial leverage any bracket allows (bracket 1's).</summary>
    public int MaxLeverage => Brackets.Count == 0 ? 0 : Brackets.Max(b => b.InitialLeverage);
}

public sealed record FundingRateQuery(string? Symbol = null, DateTimeOffset? StartTime = null, DateTimeOffset? EndTime = null, int? Limit = null);
