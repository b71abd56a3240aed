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

    /// <summary>
    /// Why a position the venue holds on <paramref name="symbol"/> is not this system's to book, or null when it is: a
    /// name that is no perpetual's symbol (a delivery contract's, BTCUSDT_260327, carries its date after an underscore),
    /// or a contract whose amounts are not USDT (<see cref="Instrument.NotUsdtReason"/>). Reconciliation leaves such a
    /// position alone and a margin alert does not halve it. A symbol the venue no longer lists is this system's (its
    /// record is still reconciled).
    /// </summary>
    public async ValueTask<string?> NotBookedHereAsync(string symbol, CancellationToken cancellationToken) =>
        NotBookedHere(symbol, await FindAsync(symbol, cancellationToken).ConfigureAwait(false));

    /// <summary><see cref="NotBookedHereAsync"/> for a caller that has already looked <paramref name="symbol"/> up (<see cref="FindAsync"/>).</summary>
    public static string? NotBookedHere(string symbol, Instrument? instrument) =>
        !Symbol.TryParse(symbol, out _)
            ? "it is not a perpetual's symbol (a delivery contract's name carries its date after an underscore); only USDT-margined perpetuals are traded here"
            : instrument?.NotUsdtReason;
}
