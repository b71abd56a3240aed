using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.PaperExchange.Markets;

/// <summary>
/// SIMULATOR CONFIGURATION, NOT BINANCE'S DATA. The markets PaperExchange offers beside BTCUSDT and ETHUSDT: filters,
/// leverage brackets, price bands, funding terms and starting prices chosen to look like a USD-M perpetual of each
/// coin (minimum notional 5 USDT, as Binance sets for alts), so services can be exercised on more than two symbols.
/// Funding intervals are simulator choices too: SOLUSDT and DOGEUSDT settle every 4 h and LINKUSDT every hour,
/// whatever the live exchange uses for them today. Never trade real money on these figures.
/// </summary>
public static class SimulatedMarkets
{
    public const string Sol = "SOLUSDT";
    public const string Doge = "DOGEUSDT";
    public const string Link = "LINKUSDT";

    private const long Onboard = 1569398400000;
    private const string Source = "PaperExchange simulator configuration; not the exchange's table.";

    public static IReadOnlyList<MarketDefinition> All { get; } =
    [
        Market(Sol, "SOL", Filters(0.01m, 1m, 1_000_000m, 5_000m, 2, 0), SolBrackets, 0.42m, 6_857m, 4, 0.02m, 0.00005m, 150m, 0.0005m),
        Market("BNBUSDT", "BNB", Filters(0.01m, 0.01m, 100_000m, 2_000m, 2, 2), Brackets("BNBUSDT", 75, 10_000m), 6.60m, 20_000m, 8, 0.03m, 0.0001m, 600m, 0.0004m),
        Market("XRPUSDT", "XRP", Filters(0.0001m, 0.1m, 10_000_000m, 2_000_000m, 4, 1), Brackets("XRPUSDT", 75, 5_000m), 0.0143m, 100m, 8, 0.03m, 0.0001m, 2m, 0.0004m),
        Market(Doge, "DOGE", Filters(0.00001m, 1m, 50_000_000m, 30_000_000m, 5, 0), Brackets(Doge, 75, 5_000m), 0.00244m, 30m, 4, 0.02m, 0.00005m, 0.15m, 0.0005m),
        Market("ADAUSDT", "ADA", Filters(0.0001m, 1m, 10_000_000m, 3_000_000m, 4, 0), Brackets("ADAUSDT", 75, 5_000m), 0.0172m, 100m, 8, 0.03m, 0.0001m, 0.45m, 0.0004m),
        Market(Link, "LINK", Filters(0.001m, 0.01m, 200_000m, 20_000m, 3, 2), Brackets(Link, 50, 5_000m), 0.46m, 1_000m, 1, 0.005m, 0.00001m, 15m, 0.0005m),
    ];

    private static MarketDefinition Market(
        string symbol, string baseAsset, SymbolFilters filters, BracketTable brackets, decimal minPrice, decimal maxPrice,
        int intervalHours, decimal capAndFloor, decimal fundingRate, decimal price, decimal volatility) =>
        new(symbol, baseAsset, filters, brackets, minPrice, maxPrice, intervalHours, capAndFloor, -capAndFloor, fundingRate, price, volatility,
            0.0150m, Onboard, []);

    /// <summary>LOT_SIZE starts at one step; MIN_NOTIONAL is 5 USDT.</summary>
    private static SymbolFilters Filters(decimal tick, decimal step, decimal maxQty, decimal marketMaxQty, int pricePrecision, int quantityPrecision) =>
        new(tickSize: tick, stepSize: step, minQty: step, maxQty: maxQty, marketMinQty: step, marketMaxQty: marketMaxQty,
            minNotional: 5m, pricePrecision: pricePrecision, quantityPrecision: quantityPrecision);

    // The 4-hour symbol's table as first configured (tests rely on its first tier: 50x, 1 %).
    private static BracketTable SolBrackets => new(
        new Symbol(Sol),
        new DateOnly(2026, 11, 25),
        Source,
        [
            new LeverageBracket(1, 50, 5_000m, 0m, 0.01m, 0m),
            new LeverageBracket(2, 25, 50_000m, 5_000m, 0.025m, 75m),
            new LeverageBracket(3, 20, 250_000m, 50_000m, 0.05m, 1_325m),
            new LeverageBracket(4, 10, 1_000_000m, 250_000m, 0.1m, 13_825m),
            new LeverageBracket(5, 5, 2_000_000m, 1_000_000m, 0.125m, 38_825m),
            new LeverageBracket(6, 1, 5_000_000m, 2_000_000m, 0.5m, 788_825m),
        ]);

    /// <summary>
    /// Eight tiers from <paramref name="maxLeverage"/> down to 1x, the first ending at <paramref name="firstCap"/>; each
    /// cum follows the continuity rule (previous cum + floor × rise in maintenance rate), which BracketTable checks.
    /// </summary>
    private static BracketTable Brackets(string symbol, int maxLeverage, decimal firstCap)
    {
        (decimal CapMultiple, int Leverage, decimal Rate)[] tiers =
        [
            (1m, maxLeverage, 0.005m),
            (5m, Math.Min(maxLeverage, 50), 0.01m),
            (20m, 25, 0.02m),
            (100m, 10, 0.05m),
            (200m, 5, 0.1m),
            (600m, 4, 0.125m),
            (1_000m, 2, 0.25m),
            (2_000m, 1, 0.5m),
        ];
        var rows = new List<LeverageBracket>(tiers.Length);
        var floor = 0m;
        var cum = 0m;
        var previousRate = 0m;
        for (var i = 0; i < tiers.Length; i++)
        {
            var (multiple, leverage, rate) = tiers[i];
            cum += floor * (rate - previousRate);
            var cap = firstCap * multiple;
            rows.Add(new LeverageBracket(i + 1, leverage, cap, floor, rate, cum));
            floor = cap;
            previousRate = rate;
        }

        return new BracketTable(new Symbol(symbol), new DateOnly(2026, 11, 25), Source, rows);
    }
}
