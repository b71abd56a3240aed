using TradeEngine.Binance.Instruments;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.RiskLoad;

/// <summary>
/// The benchmark measures the check, not the venue: instruments come from Domain's shipped BTCUSDT/ETHUSDT data
/// instead of exchangeInfo, so no venue is needed and no request leaves the process.
/// </summary>
public sealed class CatalogInstrumentSource : IInstrumentSource
{
    public ValueTask<Instrument> GetAsync(Symbol symbol, CancellationToken ct = default) =>
        ValueTask.FromResult(InstrumentCatalog.Get(symbol));

    public ValueTask<Instrument?> TryGetAsync(Symbol symbol, CancellationToken ct = default) =>
        ValueTask.FromResult(InstrumentCatalog.TryGet(symbol, out var instrument) ? instrument : null);
}
