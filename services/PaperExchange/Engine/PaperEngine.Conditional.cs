using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
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
                throw VenueErrors.IllegalClientId("clientAlgoId");
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

    private static bool WouldTrigger(string type, int sign, decimal trigger, decimal price) => type switch
    {
        // STOP: BUY when price >= stop, SELL when price <= stop. TAKE_PROFIT: the reverse (Binance's New Order notes).
        "STOP_MARKET" => sign > 0 ? price >= trigger : price <= trigger,
        _ => sign > 0 ? price <= trigger : price >= trigger,
    };

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
            if (qty <= 0m)
            {
                // Nothing left to reduce or close: cancelled by the system.
                a.AlgoStatus = "EXPIRED";
                continue;
            }

            if (!HasMargin(def, position, sign, qty, m.MarkPrice))
            {
                // Denied by the matching engine: Binance's ALGO_UPDATE documents REJECTED "in scenarios of margin check
                // failures" (EXPIRED is a cancel by the system). The margin of the opening part only (HasMargin), so an
                // order that closes and reverses is judged too; before, any order that reduced at all skipped the check,
                // and a stop of 1 on a long of 0.1 opened a short of 0.9 with no margin. Before, a failure was EXPIRED.
                a.AlgoStatus = "REJECTED";
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
            Register(order);
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
}
