using System.Text.Json;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    /// <summary>
    /// A symbol that is not TRADING (settling, delivering, closed) takes no order that could open or add: -4140, as
    /// Binance answers. Reduce-only and closePosition orders still go through, so a holder can get out.
    /// </summary>
    private static void CheckStatus(MarketState market, bool reducing)
    {
        if (!reducing && market.Status != MarketStatuses.Trading)
        {
            throw VenueErrors.InvalidSymbolStatus();
        }
    }

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
            else if (tif is "IOC" or "FOK")
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

    /// <summary>POST /fapi/v1/algoOrder (algoType CONDITIONAL): STOP_MARKET and TAKE_PROFIT_MARKET.</summary>
    public void PlaceAlgoOrder(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            if (p.Required("algoType") != "CONDITIONAL")
            {
                throw VenueErrors.IllegalValue("algoType");
            }

            var market = Market(p.Required("symbol"));
            var def = _definitions[market.Symbol];
            var sign = SideSign(p.Required("side"));
            var type = p.Required("type");
            if (type is not ("STOP_MARKET" or "TAKE_PROFIT_MARKET"))
            {
                throw VenueErrors.InvalidOrderType();
            }

            CheckPositionSide(p);

            var trigger = CheckPrice(def, p.RequiredDecimal("triggerPrice"));
            var workingType = p.Get("workingType") ?? "CONTRACT_PRICE";
            if (workingType is not ("MARK_PRICE" or "CONTRACT_PRICE"))
            {
                throw VenueErrors.IllegalValue("workingType");
            }

            var closePosition = p.Bool("closePosition");
            decimal qty = 0m;
            var reduceOnly = false;
            if (closePosition)
            {
                if (p.Has("quantity"))
                {
                    throw VenueErrors.QuantityWithClosePosition();
                }

                if (p.Has("reduceOnly"))
                {
                    throw VenueErrors.NotRequired("reduceOnly");
                }
            }
            else
            {
                qty = CheckQuantity(def, p.RequiredDecimal("quantity"), isMarket: true);
                reduceOnly = p.Bool("reduceOnly");
            }

            CheckStatus(market, closePosition || reduceOnly);
            if (WouldTrigger(type, sign, trigger, market.MarkPrice))
            {
                throw VenueErrors.WouldTrigger();
            }

            var clientAlgoId = p.Get("clientAlgoId") ?? ("paper_algo_" + (_nextOrderId + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (clientAlgoId.Length > MaxClientIdLength)
            {
                throw VenueErrors.ClientOrderIdNotValid();
            }

            if (!IsValidClientId(clientAlgoId))
            {
                throw VenueErrors.IllegalValue("clientAlgoId");
            }

            // Same rule as newClientOrderId: unique among open algo orders unless StrictClientOrderIds.
            if (_algoByClientId.TryGetValue(clientAlgoId, out var existingAlgo)
                && (_options.StrictClientOrderIds || _openAlgo.Contains(existingAlgo)))
            {
                throw VenueErrors.DuplicateClientOrderId();
            }

            // A closePosition order is GTE_GTC on Binance: it exists only with a position to close (-4509 without one;
            // it expires when the position closes, ExpireCloseOrdersOfFlatPositions), and one open closePosition order
            // per type and direction may stand (a stop-loss and a take-profit together): a second is -4130, so a
            // replacement must cancel the one it replaces first.
            var side = sign > 0 ? "BUY" : "SELL";
            if (closePosition && Position(market.Symbol).Amount == 0m)
            {
                throw VenueErrors.GteWithoutPosition();
            }

            if (closePosition && _openAlgo.Any(a => a.Symbol == market.Symbol && a.ClosePosition && a.Side == side && a.OrderType == type))
            {
                throw VenueErrors.ClosePositionOrderExists();
            }

            if (_openAlgo.Count(a => a.Symbol == market.Symbol) >= MarketJson.MaxAlgoOrdersPerSymbol)
            {
                throw VenueErrors.MaxStopOrders();
            }

            var algo = new AlgoOrderState
            {
                AlgoId = _nextOrderId++,
                ClientAlgoId = clientAlgoId,
                Symbol = market.Symbol,
                Side = side,
                OrderType = type,
                TriggerPrice = trigger,
                Quantity = qty,
                ClosePosition = closePosition,
                ReduceOnly = reduceOnly,
                WorkingType = workingType,
                PriceProtect = p.Bool("priceProtect"),
                CreateTime = now,
                UpdateTime = now,
            };
            _algoById[algo.AlgoId] = algo;
            _algoByClientId[clientAlgoId] = algo;
            _openAlgo.Add(algo);
            _version++;
            VenueJson.AlgoOrder(w, algo);
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

    /// <summary>
    /// DELETE /fapi/v1/algoOrder: one open algo order, by algoId or clientAlgoId (one of them is required; algoId wins
    /// when both are sent, as in the look-up). An order that is not open (unknown, triggered or cancelled already) is -2011.
    /// </summary>
    public void CancelAlgoOrder(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var algo = FindAlgoLocked(p);
            if (algo is null || !_openAlgo.Remove(algo))
            {
                throw VenueErrors.CancelRejected();
            }

            algo.AlgoStatus = "CANCELED";
            algo.UpdateTime = now;
            _version++;
            VenueJson.AlgoCancel(w, algo);
        }
    }

    /// <summary>DELETE /fapi/v1/algoOpenOrders.</summary>
    public void CancelAllAlgoOrders(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(p.Required("symbol"));
            for (var i = _openAlgo.Count - 1; i >= 0; i--)
            {
                var a = _openAlgo[i];
                if (a.Symbol == market.Symbol)
                {
                    a.AlgoStatus = "CANCELED";
                    a.UpdateTime = now;
                    _openAlgo.RemoveAt(i);
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
            throw VenueErrors.IllegalValue("newClientOrderId");
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

    private static int SideSign(string side) => side switch
    {
        "BUY" => 1,
        "SELL" => -1,
        _ => throw VenueErrors.InvalidSide(),
    };

    internal static decimal CheckQuantity(MarketDefinition def, decimal qty, bool isMarket)
    {
        if (qty <= 0m)
        {
            throw VenueErrors.QuantityNotPositive();
        }

        if (qty.Scale > def.Filters.QuantityPrecision && qty != Math.Round(qty, def.Filters.QuantityPrecision))
        {
            throw VenueErrors.BadPrecision();
        }

        if ((qty - def.Filters.MinQty) % def.Filters.StepSize != 0m)
        {
            throw VenueErrors.QtyOffStep();
        }

        if (qty < (isMarket ? def.Filters.MarketMinQty : def.Filters.MinQty))
        {
            throw VenueErrors.QuantityBelowMinimum();
        }

        if (qty > (isMarket ? def.Filters.MarketMaxQty : def.Filters.MaxQty))
        {
            throw VenueErrors.QuantityTooLarge();
        }

        return qty;
    }

    private static decimal CheckPrice(MarketDefinition def, decimal price)
    {
        if (price <= 0m)
        {
            throw VenueErrors.IllegalValue("price");
        }

        if (price.Scale > def.Filters.PricePrecision && price != Math.Round(price, def.Filters.PricePrecision))
        {
            throw VenueErrors.BadPrecision();
        }

        if (!def.Filters.ValidatePrice(price).IsValid)
        {
            throw VenueErrors.PriceOffTick();
        }

        if (price < def.MinPrice)
        {
            throw VenueErrors.PriceTooLow();
        }

        return price > def.MaxPrice ? throw VenueErrors.PriceTooHigh() : price;
    }

    /// <summary>
    /// PERCENT_PRICE (USD-M, on the mark price): a BUY must be priced at most mark × multiplierUp (-4016), a SELL at
    /// least mark × multiplierDown (-4024). Each side has one bound only: a BUY far below the mark may rest.
    /// </summary>
    private static void CheckPercentPrice(MarketDefinition def, int sign, decimal price, decimal markPrice)
    {
        if (sign > 0 && price > markPrice * def.MultiplierUp)
        {
            throw VenueErrors.PriceAboveMultiplierCap();
        }

        if (sign < 0 && price < markPrice * def.MultiplierDown)
        {
            throw VenueErrors.PriceBelowMultiplierFloor();
        }
    }

    /// <summary>A taker fills at the mark price moved against it by the slippage, never beyond a limit price.</summary>
    private decimal TakerPrice(MarketDefinition def, MarketState m, int sign, decimal? limit)
    {
        var slipped = m.MarkPrice * (1m + (sign * _slippageBps / 10_000m));
        var price = sign > 0 ? def.Filters.CeilingToTick(slipped) : def.Filters.FloorToTick(slipped);
        if (limit is { } l)
        {
            price = sign > 0 ? Math.Min(price, l) : Math.Max(price, l);
        }

        return Math.Max(def.Filters.TickSize, price);
    }

    private static bool WouldTrigger(string type, int sign, decimal trigger, decimal price) => type switch
    {
        // STOP: BUY when price >= stop, SELL when price <= stop. TAKE_PROFIT: the reverse (Binance's New Order notes).
        "STOP_MARKET" => sign > 0 ? price >= trigger : price <= trigger,
        _ => sign > 0 ? price <= trigger : price >= trigger,
    };

    /// <summary>Applies a fill to the position and the wallet, and books the trade, commission and realized PnL.</summary>
    private void Fill(OrderState order, decimal qty, decimal price, bool maker, long now, bool liquidation = false)
    {
        var sign = order.Side == "BUY" ? 1 : -1;
        var position = Position(order.Symbol);
        var realized = 0m;
        var remaining = qty;
        if (position.Amount != 0m && Math.Sign(position.Amount) != sign)
        {
            var closeQty = Math.Min(qty, Math.Abs(position.Amount));
            realized = closeQty * (price - position.EntryPrice) * Math.Sign(position.Amount);
            if (position.Isolated)
            {
                var release = position.IsolatedWallet * closeQty / Math.Abs(position.Amount);
                position.IsolatedWallet -= release;
                _crossWallet += release;
            }

            _crossWallet += realized;
            position.Amount += sign * closeQty;
            remaining -= closeQty;
            if (position.Amount == 0m)
            {
                position.EntryPrice = 0m;
                _crossWallet += position.IsolatedWallet;
                position.IsolatedWallet = 0m;
            }
        }

        if (remaining > 0m)
        {
            var newAmount = position.Amount + (sign * remaining);
            position.EntryPrice = ((Math.Abs(position.Amount) * position.EntryPrice) + (remaining * price)) / Math.Abs(newAmount);
            position.Amount = newAmount;
            if (position.Isolated)
            {
                var margin = remaining * price / position.Leverage;
                _crossWallet -= margin;
                position.IsolatedWallet += margin;
            }
        }

        position.UpdateTime = now;
        var quote = qty * price;
        var commission = liquidation ? 0m : Math.Round(quote * (maker ? _makerFee : _takerFee), 8, MidpointRounding.ToEven);
        _crossWallet -= commission;
        var trade = new TradeState
        {
            Id = _nextTradeId++,
            OrderId = order.OrderId,
            Symbol = order.Symbol,
            Side = order.Side,
            Price = price,
            Qty = qty,
            QuoteQty = quote,
            RealizedPnl = realized,
            Commission = commission,
            Maker = maker,
            Time = now,
        };
        AddTrade(trade);
        var tradeId = trade.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (commission != 0m)
        {
            AddIncome(order.Symbol, "COMMISSION", -commission, now, tradeId);
        }

        if (realized != 0m)
        {
            AddIncome(order.Symbol, "REALIZED_PNL", realized, now, tradeId);
        }

        order.ExecutedQty += qty;
        order.CumQuote += quote;
        order.AvgPrice = order.CumQuote / order.ExecutedQty;
        order.Status = order.ExecutedQty >= order.OrigQty ? "FILLED" : "PARTIALLY_FILLED";
        order.UpdateTime = now;
        _version++;
    }

    /// <summary>Resting LIMIT orders fill as makers at their price once the mark price reaches it.</summary>
    private void FillRestingOrders(MarketState m, long now)
    {
        for (var i = _openOrders.Count - 1; i >= 0; i--)
        {
            var o = _openOrders[i];
            if (o.Symbol != m.Symbol)
            {
                continue;
            }

            var sign = o.Side == "BUY" ? 1 : -1;
            if (sign > 0 ? m.MarkPrice > o.Price : m.MarkPrice < o.Price)
            {
                continue;
            }

            _openOrders.RemoveAt(i);
            var def = _definitions[o.Symbol];
            var position = Position(o.Symbol);
            var qty = o.OrigQty - o.ExecutedQty;
            if (o.ReduceOnly)
            {
                qty = Math.Sign(position.Amount) == -sign ? Math.Min(qty, Math.Abs(position.Amount)) : 0m;
            }

            if (qty <= 0m || !HasMargin(def, position, sign, qty, o.Price))
            {
                o.Status = "EXPIRED";
                o.UpdateTime = now;
                continue;
            }

            Fill(o, qty, o.Price, maker: true, now);
        }
    }

    /// <summary>Conditional orders trigger on the mark price (CONTRACT_PRICE uses the same price here: one price per market).</summary>
    private void TriggerAlgoOrders(MarketState m, long now)
    {
        for (var i = _openAlgo.Count - 1; i >= 0; i--)
        {
            var a = _openAlgo[i];
            if (a.Symbol != m.Symbol)
            {
                continue;
            }

            var sign = a.Side == "BUY" ? 1 : -1;
            if (!WouldTrigger(a.OrderType, sign, a.TriggerPrice, m.MarkPrice))
            {
                continue;
            }

            _openAlgo.RemoveAt(i);
            a.TriggerTime = now;
            a.UpdateTime = now;
            var position = Position(a.Symbol);
            var closes = position.Amount != 0m && Math.Sign(position.Amount) == -sign;
            var qty = a.ClosePosition ? (closes ? Math.Abs(position.Amount) : 0m)
                : a.ReduceOnly ? (closes ? Math.Min(a.Quantity, Math.Abs(position.Amount)) : 0m)
                : a.Quantity;
            var def = _definitions[a.Symbol];
            if (qty <= 0m || (!closes && !HasMargin(def, position, sign, qty, m.MarkPrice)))
            {
                a.AlgoStatus = "EXPIRED";
                continue;
            }

            var order = new OrderState
            {
                OrderId = _nextOrderId++,
                ClientOrderId = a.ClientAlgoId,
                Symbol = a.Symbol,
                Side = a.Side,
                Type = "MARKET",
                OrigType = a.OrderType,
                OrigQty = qty,
                StopPrice = a.TriggerPrice,
                ClosePosition = a.ClosePosition,
                ReduceOnly = a.ReduceOnly || a.ClosePosition,
                WorkingType = a.WorkingType,
                Time = now,
                UpdateTime = now,
            };
            _ordersById[order.OrderId] = order;
            _ordersByClientId.TryAdd((order.Symbol, order.ClientOrderId), order);
            Fill(order, qty, TakerPrice(def, m, sign, null), maker: false, now);
            a.ActualOrderId = order.OrderId;
            a.AlgoStatus = "FINISHED";
        }
    }

    /// <summary>
    /// Binance's closePosition orders are GTE_GTC: once the position they close is gone (closed by an order, by the
    /// other protective order's trigger, by liquidation), they expire, so none is left to close the next position at
    /// an old trigger.
    /// </summary>
    private void ExpireCloseOrdersOfFlatPositions(long now)
    {
        for (var i = _openAlgo.Count - 1; i >= 0; i--)
        {
            var a = _openAlgo[i];
            if (a.ClosePosition && (!_positions.TryGetValue(a.Symbol, out var position) || position.Amount == 0m))
            {
                _openAlgo.RemoveAt(i);
                a.AlgoStatus = "EXPIRED";
                a.UpdateTime = now;
                _version++;
            }
        }
    }

    /// <summary>The simulator runs in one-way mode: positionSide may be absent or BOTH; LONG or SHORT get -4061.</summary>
    private static void CheckPositionSide(VenueParams p)
    {
        if (p.Get("positionSide") is { } side && side != "BOTH")
        {
            throw side is "LONG" or "SHORT" ? VenueErrors.PositionSideMismatch() : VenueErrors.IllegalValue("positionSide");
        }
    }
}
