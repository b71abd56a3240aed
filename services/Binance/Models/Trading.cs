using TradeEngine.Domain;

namespace TradeEngine.Binance.Models;

/// <summary>A MARKET or LIMIT order in one-way mode. Price and time in force are for LIMIT only.</summary>
public sealed record NewOrder(
    string Symbol,
    OrderSide Side,
    OrderType Type,
    decimal Quantity,
    decimal? Price = null,
    TimeInForce? TimeInForce = null,
    bool ReduceOnly = false);

/// <summary>
/// A stop-loss (STOP_MARKET) or take-profit (TAKE_PROFIT_MARKET). With <see cref="ClosePosition"/> it closes the whole
/// position when triggered and carries no quantity; otherwise it is a reduce-only order of <see cref="Quantity"/>.
/// </summary>
public sealed record NewConditionalOrder(
    string Symbol,
    OrderSide Side,
    ConditionalOrderType Type,
    decimal TriggerPrice,
    bool ClosePosition = true,
    decimal? Quantity = null,
    WorkingType WorkingType = WorkingType.MarkPrice);

public sealed record OrderInfo(
    string Symbol,
    long OrderId,
    string ClientOrderId,
    OrderSide Side,
    string Type,
    OrderStatus Status,
    decimal OrigQty,
    decimal ExecutedQty,
    decimal Price,
    decimal AvgPrice,
    decimal CumQuote,
    decimal StopPrice,
    bool ReduceOnly,
    bool ClosePosition,
    string PositionSide,
    string TimeInForce,
    DateTimeOffset UpdateTime);

public sealed record ConditionalOrderInfo(
    string Symbol,
    long AlgoId,
    string ClientAlgoId,
    OrderSide Side,
    ConditionalOrderType Type,
    AlgoStatus Status,
    decimal TriggerPrice,
    decimal Quantity,
    bool ClosePosition,
    bool ReduceOnly,
    WorkingType WorkingType,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime);

public sealed record LeverageSetting(string Symbol, int Leverage, decimal MaxNotionalValue);

/// <summary>Result of a margin type change: <see cref="Changed"/> is false when it already had that type (-4046).</summary>
public sealed record MarginTypeChange(string Symbol, MarginType MarginType, bool Changed);

/// <summary>Result of a position mode change: <see cref="Changed"/> is false when the account already had that mode (-4059).</summary>
public sealed record PositionModeChange(PositionMode Mode, bool Changed);

/// <summary>A plain order placed through <see cref="BinanceClient"/>: the result and how it was obtained.</summary>
public sealed record OrderPlacement(OrderInfo Order, int Attempts, bool RecoveredByLookup);
