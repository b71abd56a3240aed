using System.Globalization;
using System.Text.Json;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.PaperExchange.Venue;

/// <summary>
/// Binance's response shapes, field by field and in the documented order: decimals as strings, ids and times
/// as numbers, flags as booleans. Fixtures under tests/Binance.Tests/Fixtures hold the documented examples.
/// </summary>
public static class VenueJson
{
    public enum OrderShape
    {
        /// <summary>POST /fapi/v1/order: has cumQty, no time.</summary>
        NewOrder,

        /// <summary>GET /fapi/v1/order and openOrders: has time, no cumQty.</summary>
        Query,
    }

    public static string Text(decimal value) => DecimalText.Format(value);

    /// <summary>Fixed decimals, as Binance prints account figures ("0.00000000").</summary>
    public static string Fixed(decimal value, int decimals) =>
        Math.Round(value, decimals, MidpointRounding.ToEven).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static void Error(Utf8JsonWriter w, int code, string msg)
    {
        w.WriteStartObject();
        w.WriteNumber("code", code);
        w.WriteString("msg", msg);
        w.WriteEndObject();
    }

    public static void CodeMsg(Utf8JsonWriter w, int code, string msg) => Error(w, code, msg);

    public static void Order(Utf8JsonWriter w, OrderState o, OrderShape shape)
    {
        w.WriteStartObject();
        w.WriteString("avgPrice", Fixed(o.AvgPrice, 5));
        w.WriteString("clientOrderId", o.ClientOrderId);
        w.WriteString("cumQuote", Text(o.CumQuote));
        if (shape == OrderShape.NewOrder)
        {
            w.WriteString("cumQty", Text(o.ExecutedQty));
        }

        w.WriteString("executedQty", Text(o.ExecutedQty));
        w.WriteNumber("orderId", o.OrderId);
        w.WriteString("origQty", Text(o.OrigQty));
        w.WriteString("origType", o.OrigType);
        w.WriteString("price", Text(o.Price));
        w.WriteBoolean("reduceOnly", o.ReduceOnly);
        w.WriteString("side", o.Side);
        w.WriteString("positionSide", "BOTH");
        w.WriteString("status", o.Status);
        w.WriteString("stopPrice", Text(o.StopPrice));
        w.WriteBoolean("closePosition", o.ClosePosition);
        w.WriteString("symbol", o.Symbol);
        if (shape == OrderShape.Query)
        {
            w.WriteNumber("time", o.Time);
        }

        w.WriteString("timeInForce", o.TimeInForce);
        w.WriteString("type", o.Type);
        w.WriteNumber("updateTime", o.UpdateTime);
        w.WriteString("workingType", o.WorkingType);
        w.WriteBoolean("priceProtect", false);
        w.WriteString("priceMatch", "NONE");
        w.WriteString("selfTradePreventionMode", "EXPIRE_MAKER");
        w.WriteNumber("goodTillDate", 0);
        w.WriteEndObject();
    }

    /// <summary>DELETE /fapi/v1/algoOrder's answer: the order's ids, and "code" as a string (the documented example).</summary>
    public static void AlgoCancel(Utf8JsonWriter w, AlgoOrderState a)
    {
        w.WriteStartObject();
        w.WriteNumber("algoId", a.AlgoId);
        w.WriteString("clientAlgoId", a.ClientAlgoId);
        w.WriteString("code", "200");
        w.WriteString("msg", "success");
        w.WriteEndObject();
    }

    public static void AlgoOrder(Utf8JsonWriter w, AlgoOrderState a)
    {
        w.WriteStartObject();
        w.WriteNumber("algoId", a.AlgoId);
        w.WriteString("clientAlgoId", a.ClientAlgoId);
        w.WriteString("algoType", "CONDITIONAL");
        w.WriteString("orderType", a.OrderType);
        w.WriteString("symbol", a.Symbol);
        w.WriteString("side", a.Side);
        w.WriteString("positionSide", "BOTH");
        w.WriteString("timeInForce", a.ClosePosition ? "GTE_GTC" : "GTC");
        w.WriteString("quantity", Text(a.Quantity));
        w.WriteString("algoStatus", a.AlgoStatus);
        w.WriteString("triggerPrice", Text(a.TriggerPrice));
        w.WriteString("price", "0");
        w.WriteNull("icebergQuantity");
        w.WriteString("selfTradePreventionMode", "EXPIRE_MAKER");
        w.WriteString("workingType", a.WorkingType);
        w.WriteString("priceMatch", "NONE");
        w.WriteBoolean("closePosition", a.ClosePosition);
        w.WriteBoolean("priceProtect", a.PriceProtect);
        w.WriteBoolean("reduceOnly", a.ReduceOnly);
        w.WriteString("activatePrice", "");
        w.WriteString("callbackRate", "");
        w.WriteNumber("createTime", a.CreateTime);
        w.WriteNumber("updateTime", a.UpdateTime);
        w.WriteNumber("triggerTime", a.TriggerTime);
        w.WriteNumber("goodTillDate", 0);
        w.WriteEndObject();
    }

    public static void Trade(Utf8JsonWriter w, TradeState t)
    {
        w.WriteStartObject();
        w.WriteBoolean("buyer", t.Side == "BUY");
        w.WriteString("commission", Fixed(t.Commission, 8));
        w.WriteString("commissionAsset", t.CommissionAsset);
        w.WriteNumber("id", t.Id);
        w.WriteBoolean("maker", t.Maker);
        w.WriteNumber("orderId", t.OrderId);
        w.WriteString("price", Text(t.Price));
        w.WriteString("qty", Text(t.Qty));
        w.WriteString("quoteQty", Text(t.QuoteQty));
        w.WriteString("realizedPnl", Fixed(t.RealizedPnl, 8));
        w.WriteString("side", t.Side);
        w.WriteString("positionSide", "BOTH");
        w.WriteString("symbol", t.Symbol);
        w.WriteNumber("time", t.Time);
        w.WriteEndObject();
    }

    public static void Income(Utf8JsonWriter w, IncomeState i)
    {
        w.WriteStartObject();
        w.WriteString("symbol", i.Symbol);
        w.WriteString("incomeType", i.IncomeType);
        w.WriteString("income", Fixed(i.Income, 8));
        w.WriteString("asset", string.IsNullOrEmpty(i.Asset) ? "USDT" : i.Asset);
        w.WriteString("info", i.Info);
        w.WriteNumber("time", i.Time);
        w.WriteNumber("tranId", i.TranId);
        w.WriteString("tradeId", i.TradeId);
        w.WriteEndObject();
    }

    public static void Funding(Utf8JsonWriter w, FundingRecordState f)
    {
        w.WriteStartObject();
        w.WriteString("symbol", f.Symbol);
        w.WriteString("fundingRate", Fixed(f.FundingRate, 8));
        w.WriteNumber("fundingTime", f.FundingTime);
        w.WriteString("markPrice", Fixed(f.MarkPrice, 8));
        w.WriteEndObject();
    }
}
