using TradeEngine.Binance.Models;
using TradeEngine.Domain;

namespace TradeEngine.Binance;

/// <summary>
/// The Binance USD-M futures REST subset the services use. Every call honours its <see cref="CancellationToken"/>,
/// has a per-attempt timeout, and raises only <see cref="Errors.BinanceException"/> subtypes for venue failures.
/// </summary>
public interface IBinanceClient
{
    // Market data (public)
    Task<DateTimeOffset> GetServerTimeAsync(CancellationToken ct = default);

    Task<ExchangeInfo> GetExchangeInfoAsync(CancellationToken ct = default);

    Task<PremiumIndex> GetPremiumIndexAsync(string symbol, CancellationToken ct = default);

    Task<IReadOnlyList<PremiumIndex>> GetPremiumIndexesAsync(CancellationToken ct = default);

    Task<IReadOnlyList<FundingRateEntry>> GetFundingRateHistoryAsync(FundingRateQuery query, CancellationToken ct = default);

    IAsyncEnumerable<FundingRateEntry> GetFundingRateHistoryPagedAsync(string symbol, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default);

    /// <summary>Every fundingInfo entry; a malformed one leaves its symbol out, named in <see cref="FundingInfoList.Refused"/>.</summary>
    Task<FundingInfoList> GetFundingInfoAsync(CancellationToken ct = default);

    Task<TickerPrice> GetTickerPriceAsync(string symbol, CancellationToken ct = default);

    // Trading and account (signed)
    Task<IReadOnlyList<SymbolBrackets>> GetLeverageBracketsAsync(string? symbol = null, CancellationToken ct = default);

    Task<OrderPlacement> PlaceOrderAsync(NewOrder order, string idempotencyKey, CancellationToken ct = default);

    Task<ConditionalOrderInfo> PlaceConditionalOrderAsync(NewConditionalOrder order, string idempotencyKey, CancellationToken ct = default);

    Task<OrderInfo?> GetOrderAsync(string symbol, string clientOrderId, CancellationToken ct = default);

    /// <summary>An order by the venue's own id (GET fapi/v1/order with orderId); null when the venue has no such order.</summary>
    Task<OrderInfo?> GetOrderByIdAsync(string symbol, long orderId, CancellationToken ct = default);

    Task<ConditionalOrderInfo?> GetConditionalOrderAsync(string clientAlgoId, CancellationToken ct = default);

    Task<IReadOnlyList<OrderInfo>> GetOpenOrdersAsync(string? symbol = null, CancellationToken ct = default);

    Task<IReadOnlyList<ConditionalOrderInfo>> GetOpenConditionalOrdersAsync(string? symbol = null, CancellationToken ct = default);

    Task CancelAllOpenOrdersAsync(string symbol, CancellationToken ct = default);

    Task CancelAllOpenConditionalOrdersAsync(string symbol, CancellationToken ct = default);

    /// <summary>
    /// Cancels one open conditional order by its client id (DELETE fapi/v1/algoOrder). True when this call cancelled it;
    /// false when the venue holds no such open order (-2011: unknown, triggered or cancelled already), so a repeat of a
    /// cancel that landed is not an error.
    /// </summary>
    Task<bool> CancelConditionalOrderAsync(string clientAlgoId, CancellationToken ct = default);

    Task<LeverageSetting> ChangeLeverageAsync(string symbol, int leverage, CancellationToken ct = default);

    Task<MarginTypeChange> ChangeMarginTypeAsync(string symbol, MarginType marginType, CancellationToken ct = default);

    /// <summary>The account's position mode: <c>GET /fapi/v1/positionSide/dual</c> (weight 30).</summary>
    Task<PositionMode> GetPositionModeAsync(CancellationToken ct = default);

    /// <summary>
    /// Sets the account's position mode (<c>POST /fapi/v1/positionSide/dual</c>), for every symbol. Binance refuses it while
    /// any position (-4068) or open order (-4067) exists; the mode the account already has is not a failure (Changed false).
    /// </summary>
    Task<PositionModeChange> ChangePositionModeAsync(PositionMode mode, CancellationToken ct = default);

    Task<IReadOnlyList<PositionRisk>> GetPositionsAsync(string? symbol = null, CancellationToken ct = default);

    Task<IReadOnlyList<AccountBalance>> GetBalancesAsync(CancellationToken ct = default);

    Task<AccountInfo> GetAccountAsync(CancellationToken ct = default);

    Task<IReadOnlyList<IncomeEntry>> GetIncomeHistoryAsync(IncomeQuery query, CancellationToken ct = default);

    /// <summary>
    /// Every income row of one type, or of every type when <paramref name="type"/> is null, in [from, to] of one symbol,
    /// or of the whole account when <paramref name="symbol"/> is null (transfer rows carry no symbol), oldest first,
    /// however many requests it takes.
    /// </summary>
    IAsyncEnumerable<IncomeEntry> GetIncomeHistoryPagedAsync(string? symbol, IncomeType? type, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default);

    Task<IReadOnlyList<UserTrade>> GetUserTradesAsync(UserTradesQuery query, CancellationToken ct = default);
}
