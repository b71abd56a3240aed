using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;

namespace TradeEngine.Binance.Internal;

internal static partial class BinanceParse
{
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

    /// <summary>
    /// The price a conditional order triggers on, as documented (MARK_PRICE or CONTRACT_PRICE). Before, anything but
    /// CONTRACT_PRICE, a missing field included, was read as MARK_PRICE: a stop-loss's trigger silently defaulted.
    /// </summary>
    private static WorkingType WorkingTypeOf(string endpoint, string? text) => text switch
    {
        "MARK_PRICE" => WorkingType.MarkPrice,
        "CONTRACT_PRICE" => WorkingType.ContractPrice,
        null => throw new BinanceProtocolException(endpoint, "workingType", "missing"),
        _ => throw new BinanceProtocolException(endpoint, "workingType", $"unsupported working type '{text}'"),
    };

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
            WorkingTypeOf(ep, d.WorkingType),
            Time(ep, "createTime", d.CreateTime),
            Time(ep, "updateTime", d.UpdateTime));
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
