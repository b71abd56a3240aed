using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    private const long SevenDaysMs = 7L * 24 * 3_600_000;

    public void Income(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var symbol = p.Get("symbol");
            var type = p.Get("incomeType");
            var limit = Limit(p, 100, 1000);
            // GET /fapi/v1/income's page: the rows matched are served limit at a time, page 1 first. Before, the
            // simulator ignored it and answered every page with the first.
            var page = p.Long("page") ?? 1;
            if (page < 1)
            {
                throw VenueErrors.IllegalValue("page");
            }

            var start = p.Long("startTime");
            var end = p.Long("endTime");
            if (start is null && end is null)
            {
                start = now - SevenDaysMs;
            }

            w.WriteStartArray();
            // A page past every row there could be is empty (the product would overflow).
            var skip = page - 1 > long.MaxValue / limit ? long.MaxValue : (page - 1) * limit;
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
                    if (skip > 0)
                    {
                        skip--;
                        continue;
                    }

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
}
