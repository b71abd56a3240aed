using System.Collections.Frozen;
using TradeEngine.Domain.Funding;

namespace TradeEngine.Domain.Instruments;

/// <summary>
/// The instruments this system trades. Filters are Binance USD-M exchangeInfo values for the
/// two symbols (PRICE_FILTER tickSize, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL), written down
/// on 2026-11-25 from the widely published figures without access to the live endpoint:
/// refresh them from GET /fapi/v1/exchangeInfo before trading real money. Both symbols fund
/// every 8 hours; their cap and floor are left unknown rather than guessed.
/// </summary>
public static class InstrumentCatalog
{
    private static readonly Lazy<FrozenDictionary<string, Instrument>> Instruments = new(Build);

    public static Instrument BtcUsdt => Get(new Symbol("BTCUSDT"));

    public static Instrument EthUsdt => Get(new Symbol("ETHUSDT"));

    public static IEnumerable<Instrument> All => Instruments.Value.Values;

    public static Instrument Get(Symbol symbol)
    {
        if (!TryGet(symbol, out var instrument))
        {
            Guard.Fail("symbol", $"is not a known instrument: {symbol}");
        }

        return instrument;
    }

    public static bool TryGet(Symbol symbol, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Instrument? instrument) =>
        Instruments.Value.TryGetValue(symbol.Value, out instrument);

    private static FrozenDictionary<string, Instrument> Build()
    {
        var eightHours = new FundingSchedule(8);
        var btc = new Symbol("BTCUSDT");
        var eth = new Symbol("ETHUSDT");
        Instrument[] all =
        [
            new(
                btc,
                new SymbolFilters(
                    tickSize: 0.10m, stepSize: 0.001m, minQty: 0.001m, maxQty: 1000m,
                    marketMinQty: 0.001m, marketMaxQty: 120m, minNotional: 100m,
                    pricePrecision: 2, quantityPrecision: 3),
                BracketTables.For(btc),
                eightHours)
            { BaseAsset = "BTC" },
            new(
                eth,
                new SymbolFilters(
                    tickSize: 0.01m, stepSize: 0.001m, minQty: 0.001m, maxQty: 10000m,
                    marketMinQty: 0.001m, marketMaxQty: 2000m, minNotional: 20m,
                    pricePrecision: 2, quantityPrecision: 3),
                BracketTables.For(eth),
                eightHours)
            { BaseAsset = "ETH" },
        ];
        return all.ToFrozenDictionary(i => i.Symbol.Value, StringComparer.Ordinal);
    }
}
