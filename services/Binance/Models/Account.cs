using TradeEngine.Domain;

namespace TradeEngine.Binance.Models;

/// <summary>
/// <c>/fapi/v2/positionRisk</c> in one-way mode. <see cref="PositionAmt"/> is signed: positive long, negative short.
/// </summary>
public sealed record PositionRisk(
    string Symbol,
    decimal PositionAmt,
    decimal EntryPrice,
    decimal BreakEvenPrice,
    decimal MarkPrice,
    decimal UnrealizedProfit,
    decimal LiquidationPrice,
    int Leverage,
    decimal MaxNotionalValue,
    MarginType MarginType,
    decimal IsolatedMargin,
    decimal IsolatedWallet,
    decimal Notional,
    string PositionSide,
    DateTimeOffset UpdateTime);

public sealed record AccountBalance(
    string Asset,
    decimal Balance,
    decimal CrossWalletBalance,
    decimal CrossUnPnl,
    decimal AvailableBalance,
    decimal MaxWithdrawAmount,
    DateTimeOffset UpdateTime);

public sealed record AccountPosition(
    string Symbol,
    string PositionSide,
    decimal PositionAmt,
    decimal UnrealizedProfit,
    decimal IsolatedMargin,
    decimal Notional,
    decimal IsolatedWallet,
    decimal InitialMargin,
    decimal MaintMargin,
    DateTimeOffset UpdateTime);

/// <summary><c>/fapi/v3/account</c>: the USDT totals and the open positions.</summary>
public sealed record AccountInfo(
    decimal TotalInitialMargin,
    decimal TotalMaintMargin,
    decimal TotalWalletBalance,
    decimal TotalUnrealizedProfit,
    decimal TotalMarginBalance,
    decimal TotalCrossWalletBalance,
    decimal AvailableBalance,
    decimal MaxWithdrawAmount,
    IReadOnlyList<AccountBalance> Assets,
    IReadOnlyList<AccountPosition> Positions);

/// <summary>
/// One income row. <see cref="Income"/> is signed from the account's side: negative was paid (a funding fee paid, a
/// commission), positive was received.
/// </summary>
public sealed record IncomeEntry(
    string Symbol,
    IncomeType IncomeType,
    string RawIncomeType,
    decimal Income,
    string Asset,
    string Info,
    DateTimeOffset Time,
    long TranId,
    string TradeId);

public sealed record IncomeQuery(
    string? Symbol = null,
    IncomeType? IncomeType = null,
    DateTimeOffset? StartTime = null,
    DateTimeOffset? EndTime = null,
    int? Limit = null);

public sealed record UserTrade(
    string Symbol,
    long Id,
    long OrderId,
    OrderSide Side,
    decimal Price,
    decimal Qty,
    decimal QuoteQty,
    decimal RealizedPnl,
    decimal Commission,
    string CommissionAsset,
    bool Buyer,
    bool Maker,
    string PositionSide,
    DateTimeOffset Time);

/// <summary>
/// GET /fapi/v1/userTrades: one symbol's fills, optionally of one order. As Binance documents, <see cref="FromId"/>
/// cannot be combined with a time window, and a window spans at most 7 days.
/// </summary>
public sealed record UserTradesQuery(
    string Symbol,
    DateTimeOffset? StartTime = null,
    DateTimeOffset? EndTime = null,
    long? FromId = null,
    int? Limit = null,
    long? OrderId = null);
