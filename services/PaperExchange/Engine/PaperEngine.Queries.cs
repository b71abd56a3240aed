using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
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

    private static int Limit(VenueParams p, int defaultLimit, int max)
    {
        var limit = p.Long("limit") ?? defaultLimit;
        return limit < 1 || limit > max ? throw VenueErrors.IllegalValue("limit") : (int)limit;
    }
}
