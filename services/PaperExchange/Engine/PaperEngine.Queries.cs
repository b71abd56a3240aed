using System.Text.Json;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    private const long SevenDaysMs = 7L * 24 * 3_600_000;

    public void ServerTime(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("serverTime", NowMs);
        w.WriteEndObject();
    }

    public void ExchangeInfo(Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            MarketJson.ExchangeInfo(w, _definitions.Values, symbol => _markets[symbol].Status, now, _options);
        }
    }

    public void PremiumIndex(VenueParams p, Utf8JsonWriter w) => OneMarketOrAll(p, w, MarketJson.PremiumIndex);

    public void TickerPrice(VenueParams p, Utf8JsonWriter w) => OneMarketOrAll(p, w, MarketJson.Ticker);

    /// <summary>With a symbol, that market's object (an unknown symbol is the venue's error); without, an array of every market's.</summary>
    private void OneMarketOrAll(VenueParams p, Utf8JsonWriter w, Action<Utf8JsonWriter, MarketState, long> write)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            if (p.Get("symbol") is { } symbol)
            {
                write(w, Market(symbol), now);
                return;
            }

            w.WriteStartArray();
            foreach (var m in _markets.Values)
            {
                write(w, m, now);
            }

            w.WriteEndArray();
        }
    }

    public void FundingInfo(Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            w.WriteStartArray();
            foreach (var m in _markets.Values)
            {
                w.WriteStartObject();
                w.WriteString("symbol", m.Symbol);
                w.WriteString("adjustedFundingRateCap", VenueJson.Fixed(CapOf(m), 8));
                w.WriteString("adjustedFundingRateFloor", VenueJson.Fixed(FloorOf(m), 8));
                w.WriteNumber("fundingIntervalHours", m.FundingIntervalHours);
                w.WriteBoolean("disclaimer", false);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
    }

    /// <summary>GET /fapi/v1/fundingRate: ascending; without a time range the most recent records.</summary>
    public void FundingRateHistory(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            var symbol = p.Get("symbol");
            if (symbol is not null)
            {
                Market(symbol);
            }

            var limit = Limit(p, 100, 1000);
            var start = p.Long("startTime");
            var end = p.Long("endTime");
            IEnumerable<FundingRecordState> rows = _fundingHistory.Where(f =>
                (symbol is null || f.Symbol == symbol) && (start is null || f.FundingTime >= start) && (end is null || f.FundingTime <= end));
            rows = start is null && end is null ? rows.TakeLast(limit) : rows.Take(limit);
            w.WriteStartArray();
            foreach (var f in rows)
            {
                VenueJson.Funding(w, f);
            }

            w.WriteEndArray();
        }
    }

    public void LeverageBrackets(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            if (p.Get("symbol") is { } symbol)
            {
                MarketJson.Brackets(w, _definitions[Market(symbol).Symbol]);
                return;
            }

            w.WriteStartArray();
            foreach (var d in _definitions.Values)
            {
                MarketJson.Brackets(w, d);
            }

            w.WriteEndArray();
        }
    }

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

    public void Income(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var symbol = p.Get("symbol");
            var type = p.Get("incomeType");
            var limit = Limit(p, 100, 1000);
            var start = p.Long("startTime");
            var end = p.Long("endTime");
            if (start is null && end is null)
            {
                start = now - SevenDaysMs;
            }

            w.WriteStartArray();
            var written = 0;
            foreach (var i in _income)
            {
                if (written >= limit)
                {
                    break;
                }

                if ((symbol is null || i.Symbol == symbol) && (type is null || i.IncomeType == type)
                    && (start is null || i.Time >= start) && (end is null || i.Time <= end))
                {
                    VenueJson.Income(w, i);
                    written++;
                }
            }

            w.WriteEndArray();
        }
    }

    public void UserTrades(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(p.Required("symbol"));
            var limit = Limit(p, 500, 1000);
            var orderId = p.Long("orderId");
            var fromId = p.Long("fromId");
            var start = p.Long("startTime");
            var end = p.Long("endTime");
            // As Binance documents GET /fapi/v1/userTrades: fromId cannot be sent with startTime or endTime, a window is
            // at most 7 days, and without any of the three the last 7 days are read.
            if (fromId is not null && (start is not null || end is not null))
            {
                throw VenueErrors.BadParameterCombination();
            }

            if (start is not null && end is not null && end - start > SevenDaysMs)
            {
                throw VenueErrors.LookupTooLong(7 * 24);
            }

            if (fromId is null && start is null && end is null)
            {
                start = now - SevenDaysMs;
            }

            w.WriteStartArray();
            if (_tradesBySymbol.TryGetValue(market.Symbol, out var trades))
            {
                // One order's fills are read from its own list (in id order); otherwise from where the window starts.
                var order = orderId is { } id ? trades.OfOrder(id) : null;
                var items = order ?? trades.Items;
                var written = 0;
                for (var i = order is null ? trades.FirstCandidate(fromId, start) : 0; i < items.Count && written < limit; i++)
                {
                    var t = items[i];
                    if (end is not null && t.Time > end && trades.TimeOrdered)
                    {
                        break;
                    }

                    if ((fromId is null || t.Id >= fromId) && (start is null || t.Time >= start) && (end is null || t.Time <= end)
                        && (orderId is null || t.OrderId == orderId))
                    {
                        VenueJson.Trade(w, t);
                        written++;
                    }
                }
            }

            w.WriteEndArray();
        }
    }

    private void AddTrade(TradeState trade)
    {
        _trades.Add(trade);
        if (!_tradesBySymbol.TryGetValue(trade.Symbol, out var trades))
        {
            trades = new SymbolTrades();
            _tradesBySymbol.Add(trade.Symbol, trades);
        }

        trades.Add(trade);
    }

    /// <summary>One symbol's trades in id order; while their times never decrease, a time window is found by bisection.</summary>
    private sealed class SymbolTrades
    {
        private readonly Dictionary<long, List<TradeState>> _byOrder = [];

        public List<TradeState> Items { get; } = [];

        /// <summary>The fills of one order, in id order; an empty list when it has none.</summary>
        public List<TradeState> OfOrder(long orderId) => _byOrder.TryGetValue(orderId, out var fills) ? fills : [];

        public bool TimeOrdered { get; private set; } = true;

        public void Add(TradeState trade)
        {
            if (Items.Count > 0 && (trade.Time < Items[^1].Time || trade.Id <= Items[^1].Id))
            {
                // Not expected (ids grow, the clock never goes back), but then the query scans every trade of the symbol.
                TimeOrdered = false;
            }

            Items.Add(trade);
            if (!_byOrder.TryGetValue(trade.OrderId, out var fills))
            {
                fills = [];
                _byOrder.Add(trade.OrderId, fills);
            }

            fills.Add(trade);
        }

        /// <summary>The first index that can match: the first trade at or after fromId or startTime; 0 when unordered.</summary>
        public int FirstCandidate(long? fromId, long? start)
        {
            if (!TimeOrdered)
            {
                return 0;
            }

            int low = 0, high = Items.Count;
            while (low < high)
            {
                var mid = (low + high) >>> 1;
                var t = Items[mid];
                var before = (fromId is not null && t.Id < fromId) || (start is not null && t.Time < start);
                if (before)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }

            return low;
        }
    }

    private static int Limit(VenueParams p, int defaultLimit, int max)
    {
        var limit = p.Long("limit") ?? defaultLimit;
        return limit < 1 || limit > max ? throw VenueErrors.IllegalValue("limit") : (int)limit;
    }
}
