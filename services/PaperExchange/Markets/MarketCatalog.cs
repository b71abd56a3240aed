using System.Globalization;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Markets;

/// <summary>
/// The simulated markets: BTCUSDT and ETHUSDT with Domain's filters and bracket tables, and six more whose filters,
/// brackets, price bands, funding terms and prices are simulator configuration (<see cref="SimulatedMarkets"/>:
/// shaped like Binance's, not copied from it). Options can change price, funding interval, funding rate and
/// volatility per symbol.
/// </summary>
public static class MarketCatalog
{
    public static IReadOnlyList<MarketDefinition> Build(PaperOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var btc = InstrumentCatalog.BtcUsdt;
        var eth = InstrumentCatalog.EthUsdt;
        MarketDefinition[] defaults =
        [
            new("BTCUSDT", "BTC", btc.Filters, btc.Brackets, 556.80m, 4_529_764m, btc.Funding.IntervalHours, 0.03m, -0.03m, 0.0001m, 60_000m, 0.0002m, 0.0125m, 1569398400000, []),
            new("ETHUSDT", "ETH", eth.Filters, eth.Brackets, 39.86m, 306_177m, eth.Funding.IntervalHours, 0.03m, -0.03m, 0.0001m, 3_000m, 0.0003m, 0.0125m, 1569398400000, []),
            .. SimulatedMarkets.All,
        ];
        return defaults.Select(d => Apply(d, options.Markets.GetValueOrDefault(d.Symbol))).ToList();
    }

    private static MarketDefinition Apply(MarketDefinition d, PaperMarketOptions? o)
    {
        if (o is null)
        {
            return d;
        }

        if (o.FundingRate is { } rate && (rate > d.FundingRateCap || rate < d.FundingRateFloor))
        {
            // Refused at start: a rate outside the bounds (1.5, say) made every settlement, and so every venue request, fail.
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Paper:Markets:{d.Symbol}:FundingRate {rate} is outside the symbol's funding floor and cap ({d.FundingRateFloor}..{d.FundingRateCap})"));
        }

        var replay = string.IsNullOrWhiteSpace(o.ReplayFile) ? d.Replay : ReadReplay(o.ReplayFile);
        return d with
        {
            InitialPrice = o.InitialPrice ?? (replay.Count > 0 ? replay[0] : d.InitialPrice),
            FundingIntervalHours = o.FundingIntervalHours ?? d.FundingIntervalHours,
            DefaultFundingRate = o.FundingRate ?? d.DefaultFundingRate,
            Volatility = o.Volatility ?? d.Volatility,
            Replay = replay,
        };
    }

    /// <summary>One price per line, or "epochMillis,price"; blank lines and lines starting with '#' are skipped.</summary>
    public static IReadOnlyList<decimal> ReadReplay(string path)
    {
        var prices = new List<decimal>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var text = line.Contains(',', StringComparison.Ordinal) ? line[(line.LastIndexOf(',') + 1)..].Trim() : line;
            if (!DecimalText.TryParse(text, out var price, out var error) || price <= 0m)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{path}:{lineNo}: price {error ?? "must be positive"}"));
            }

            prices.Add(price);
        }

        return prices;
    }
}
