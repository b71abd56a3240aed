using System.Globalization;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Markets;

/// <summary>
/// The simulated markets: BTCUSDT and ETHUSDT with Domain's filters and bracket tables, and SOLUSDT, a
/// 4-hour-funding symbol whose filters and brackets are simulator configuration (shaped like Binance's, not copied
/// from it). Options can change price, funding interval, funding rate and volatility per symbol.
/// </summary>
public static class MarketCatalog
{
    public const string Sol = "SOLUSDT";

    public static IReadOnlyList<MarketDefinition> Build(PaperOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var btc = InstrumentCatalog.BtcUsdt;
        var eth = InstrumentCatalog.EthUsdt;
        MarketDefinition[] defaults =
        [
            new("BTCUSDT", "BTC", btc.Filters, btc.Brackets, 556.80m, 4_529_764m, btc.Funding.IntervalHours, 0.03m, -0.03m, 0.0001m, 60_000m, 0.0002m, 0.0125m, 1569398400000, []),
            new("ETHUSDT", "ETH", eth.Filters, eth.Brackets, 39.86m, 306_177m, eth.Funding.IntervalHours, 0.03m, -0.03m, 0.0001m, 3_000m, 0.0003m, 0.0125m, 1569398400000, []),
            new(Sol, "SOL", SolFilters, SolBrackets, 0.42m, 6_857m, 4, 0.02m, -0.02m, 0.00005m, 150m, 0.0005m, 0.0150m, 1569398400000, []),
        ];
        return defaults.Select(d => Apply(d, options.Markets.GetValueOrDefault(d.Symbol))).ToList();
    }

    private static MarketDefinition Apply(MarketDefinition d, PaperMarketOptions? o)
    {
        if (o is null)
        {
            return d;
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

    private static SymbolFilters SolFilters => new(
        tickSize: 0.01m, stepSize: 1m, minQty: 1m, maxQty: 1_000_000m,
        marketMinQty: 1m, marketMaxQty: 5_000m, minNotional: 5m, pricePrecision: 2, quantityPrecision: 0);

    // Simulator configuration: a continuous table (each cum = previous cum + floor × Δrate).
    private static BracketTable SolBrackets => new(
        new Symbol(Sol),
        new DateOnly(2026, 11, 25),
        "PaperExchange simulator configuration for a 4-hour funding symbol; not the exchange's table.",
        [
            new LeverageBracket(1, 50, 5_000m, 0m, 0.01m, 0m),
            new LeverageBracket(2, 25, 50_000m, 5_000m, 0.025m, 75m),
            new LeverageBracket(3, 20, 250_000m, 50_000m, 0.05m, 1_325m),
            new LeverageBracket(4, 10, 1_000_000m, 250_000m, 0.1m, 13_825m),
            new LeverageBracket(5, 5, 2_000_000m, 1_000_000m, 0.125m, 38_825m),
            new LeverageBracket(6, 1, 5_000_000m, 2_000_000m, 0.5m, 788_825m),
        ]);
}
