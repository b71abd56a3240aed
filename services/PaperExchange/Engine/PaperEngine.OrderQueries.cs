using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    /// <summary>GET /fapi/v1/order by orderId or origClientOrderId.</summary>
    public void QueryOrder(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            var market = Market(p.Required("symbol"));
            OrderState? order = null;
            if (p.Long("orderId") is { } id)
            {
                order = _ordersById.GetValueOrDefault(id) is { } o && o.Symbol == market.Symbol ? o : null;
            }
            else if (p.Get("origClientOrderId") is { } cid)
            {
                order = _ordersByClientId.GetValueOrDefault((market.Symbol, cid));
            }
            else
            {
                throw VenueErrors.Mandatory("orderId");
            }

            VenueJson.Order(w, order ?? throw VenueErrors.NoSuchOrder(), VenueJson.OrderShape.Query);
        }
    }

    public void OpenOrders(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            var symbol = p.Get("symbol");
            if (symbol is not null)
            {
                Market(symbol);
            }

            w.WriteStartArray();
            foreach (var o in _openOrders)
            {
                if (symbol is null || o.Symbol == symbol)
                {
                    VenueJson.Order(w, o, VenueJson.OrderShape.Query);
                }
            }

            w.WriteEndArray();
        }
    }

    /// <summary>GET /fapi/v1/algoOrder by algoId or clientAlgoId.</summary>
    public void QueryAlgoOrder(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            VenueJson.AlgoOrder(w, FindAlgoLocked(p) ?? throw VenueErrors.NoSuchOrder());
        }
    }

    /// <summary>The algo order a request names by algoId or clientAlgoId (algoId wins when both are sent); one of them is required.</summary>
    private AlgoOrderState? FindAlgoLocked(VenueParams p)
    {
        if (p.Long("algoId") is { } id)
        {
            return _algoById.GetValueOrDefault(id);
        }

        return p.Get("clientAlgoId") is { } cid ? _algoByClientId.GetValueOrDefault(cid) : throw VenueErrors.Mandatory("algoId");
    }

    public void OpenAlgoOrders(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            var symbol = p.Get("symbol");
            if (symbol is not null)
            {
                Market(symbol);
            }

            w.WriteStartArray();
            foreach (var a in _openAlgo)
            {
                if (symbol is null || a.Symbol == symbol)
                {
                    VenueJson.AlgoOrder(w, a);
                }
            }

            w.WriteEndArray();
        }
    }
}
