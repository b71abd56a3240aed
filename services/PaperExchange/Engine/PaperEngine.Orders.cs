using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    /// <summary>POST /fapi/v1/order: MARKET and LIMIT; conditional types belong to the Algo Order API (-4120).</summary>
    public void PlaceOrder(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(p.Required("symbol"));
            var def = _definitions[market.Symbol];
            var sign = SideSign(p.Required("side"));
            var type = p.Required("type");
            if (type is "STOP" or "STOP_MARKET" or "TAKE_PROFIT" or "TAKE_PROFIT_MARKET" or "TRAILING_STOP_MARKET")
            {
                throw VenueErrors.UseAlgoEndpoint();
            }

            if (type is not ("MARKET" or "LIMIT"))
            {
                throw VenueErrors.InvalidOrderType();
            }

            CheckPositionSide(p);

            var isMarket = type == "MARKET";
            var qty = CheckQuantity(def, p.RequiredDecimal("quantity"), isMarket);
            decimal? limit = null;
            var tif = isMarket ? "GTC" : p.Required("timeInForce");
            if (isMarket)
            {
                if (p.Has("price"))
                {
                    throw VenueErrors.NotRequired("price");
                }
            }
            else
            {
                if (tif is not ("GTC" or "IOC" or "FOK" or "GTX"))
                {
                    // -1115 INVALID_TIF. (GTD, with goodTillDate, is a documented value the simulator does not offer:
                    // it refuses it the same way rather than treat it as GTC.)
                    throw VenueErrors.InvalidTimeInForce();
                }

                var price = CheckPrice(def, p.RequiredDecimal("price"));
                CheckPercentPrice(def, sign, price, market.MarkPrice);
                limit = price;
            }

            var reduceOnly = p.Bool("reduceOnly");
            CheckStatus(market, reduceOnly);
            var clientId = ClientId(p.Get("newClientOrderId"), market.Symbol);
            var position = Position(market.Symbol);
            if (reduceOnly && (position.Amount == 0m || Math.Sign(position.Amount) == sign))
            {
                throw VenueErrors.ReduceOnlyRejected();
            }

            var refPrice = limit ?? market.MarkPrice;
            if (!reduceOnly && qty * refPrice < def.Filters.MinNotional)
            {
                throw VenueErrors.MinNotional(def.Filters.MinNotional);
            }

            var order = new OrderState
            {
                OrderId = _nextOrderId++,
                ClientOrderId = clientId,
                Symbol = market.Symbol,
                Side = sign > 0 ? "BUY" : "SELL",
                Type = type,
                OrigType = type,
                TimeInForce = tif,
                OrigQty = qty,
                Price = limit ?? 0m,
                ReduceOnly = reduceOnly,
                Time = now,
                UpdateTime = now,
            };

            var marketable = isMarket || (sign > 0 ? limit >= market.MarkPrice : limit <= market.MarkPrice);
            if (marketable)
            {
                if (tif == "GTX")
                {
                    throw VenueErrors.PostOnly();
                }

                var fillQty = reduceOnly ? Math.Min(qty, Math.Abs(position.Amount)) : qty;
                if (tif == "FOK" && fillQty < qty)
                {
                    // Fill or kill: a reduce-only FOK larger than the position cannot fill whole.
                    throw VenueErrors.FokRejected();
                }

                var fillPrice = TakerPrice(def, market, sign, limit);
                // Throws -2019 before anything changed when the margin does not cover the opening part (of the whole
                // order, as the venue judges it, whatever a thin book then fills).
                CheckMargin(def, position, sign, fillQty, fillPrice);
                if (isMarket && market.Depth is { } depth)
                {
                    // A thin book (MarketState.Depth) limits market orders only: a marketable limit order's rest would
                    // rest on the book (GTC) or follow its own time in force, which the simulator does not model.
                    fillQty = Math.Min(fillQty, depth);
                }

                Register(order);
                if (fillQty > 0m)
                {
                    Fill(order, fillQty, fillPrice, maker: false, now);
                }

                if (fillQty < qty)
                {
                    // A reduce-only order larger than the position, or a book thinner than the order: the rest expires.
                    order.Status = "EXPIRED";
                }

                ExpireCloseOrdersOfFlatPositions(now);
            }
            else if (tif == "FOK")
            {
                // Binance refuses a FOK that cannot fill at once (-5021) and records nothing: a query by its id answers
                // -2013. Before, it was recorded and answered EXPIRED, as an IOC (which Binance does answer so).
                throw VenueErrors.FokRejected();
            }
            else if (tif == "IOC")
            {
                Register(order);
                order.Status = "EXPIRED";
            }
            else
            {
                if (_openOrders.Count(o => o.Symbol == market.Symbol) >= MarketJson.MaxOpenOrdersPerSymbol)
                {
                    throw VenueErrors.MaxOpenOrders();
                }

                Register(order);
                _openOrders.Add(order);
            }

            _version++;
            VenueJson.Order(w, order, VenueJson.OrderShape.NewOrder);
        }
    }

    /// <summary>DELETE /fapi/v1/allOpenOrders.</summary>
    public void CancelAllOpenOrders(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(p.Required("symbol"));
            for (var i = _openOrders.Count - 1; i >= 0; i--)
            {
                var o = _openOrders[i];
                if (o.Symbol == market.Symbol)
                {
                    o.Status = "CANCELED";
                    o.UpdateTime = now;
                    _openOrders.RemoveAt(i);
                }
            }

            _version++;
            VenueJson.CodeMsg(w, 200, "The operation of cancel all open order is done.");
        }
    }

    private void Register(OrderState order)
    {
        _ordersById[order.OrderId] = order;
        _ordersByClientId[(order.Symbol, order.ClientOrderId)] = order;
    }

    private string ClientId(string? requested, string symbol)
    {
        if (requested is null)
        {
            return "paper_" + _nextOrderId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (requested.Length > MaxClientIdLength)
        {
            throw VenueErrors.ClientOrderIdNotValid();
        }

        if (!IsValidClientId(requested))
        {
            throw VenueErrors.IllegalClientId("newClientOrderId");
        }

        // Binance USD-M: newClientOrderId is "a unique id among open orders". An id whose order is filled, cancelled
        // or expired is accepted again, which is exactly why a client must not resend blindly after an unknown
        // outcome. StrictClientOrderIds keeps the older, stricter rule (an id is never reused).
        if (_ordersByClientId.TryGetValue((symbol, requested), out var existing)
            && (_options.StrictClientOrderIds || _openOrders.Contains(existing)))
        {
            throw VenueErrors.DuplicateClientOrderId();
        }

        return requested;
    }

    /// <summary>Binance's longest client order id: a longer one is -4015 ("Client order id length should not be more than 36 chars").</summary>
    private const int MaxClientIdLength = 36;

    /// <summary>Binance's pattern <c>^[\.A-Z\:/a-z0-9_-]{1,36}$</c>.</summary>
    public static bool IsValidClientId(string id)
    {
        if (id.Length is 0 or > MaxClientIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '/' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
