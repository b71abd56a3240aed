using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Instruments;

/// <summary>
/// Where a service finds a symbol's filters, brackets and funding terms. <see cref="VenueInstrumentCatalog"/> (the
/// venue, cached) is the one registered by <c>AddBinanceClient</c>; a load tool or test may register a fixed source.
/// </summary>
public interface IInstrumentSource
{
    /// <summary>The instrument; refused (kind InvalidSymbol, field <c>symbol</c>) when the venue does not list it.</summary>
    ValueTask<Instrument> GetAsync(Symbol symbol, CancellationToken ct = default);

    /// <summary>The instrument, or null when the venue does not list it.</summary>
    ValueTask<Instrument?> TryGetAsync(Symbol symbol, CancellationToken ct = default);
}
