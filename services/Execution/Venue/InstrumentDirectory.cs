using TradeEngine.Binance.Instruments;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Execution.Venue;

/// <summary>
/// The symbols the venue lists, with their filters and brackets, from the venue's instrument catalog (exchangeInfo,
/// leverageBracket and fundingInfo, cached and refreshed in the background): never Domain's static tables. Text that
/// is not a symbol, or a symbol the venue does not list, is unknown (null); callers answer INVALID_ARGUMENT naming
/// their field. A venue that cannot be read before the first load throws, and is answered UNAVAILABLE.
/// </summary>
public sealed class InstrumentDirectory(VenueInstrumentCatalog catalog)
{
    public async ValueTask<Instrument?> FindAsync(string? symbol, CancellationToken cancellationToken) =>
        Symbol.TryParse(symbol, out var parsed)
            ? await catalog.TryGetAsync(parsed, cancellationToken).ConfigureAwait(false)
            : null;
}
