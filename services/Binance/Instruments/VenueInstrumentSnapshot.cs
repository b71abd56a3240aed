using System.Collections.Frozen;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Instruments;

/// <summary>
/// One read of the venue's instruments: Domain's <see cref="Instrument"/> per symbol (exchangeInfo filters, the
/// leverageBracket table, fundingInfo interval, cap and floor) and the exchangeInfo entry it came from (status, price
/// band). Immutable: a refresh replaces the whole snapshot, so callers comparing two reads compare references.
/// </summary>
public sealed class VenueInstrumentSnapshot
{
    public VenueInstrumentSnapshot(IEnumerable<Instrument> instruments, IEnumerable<SymbolInfo> symbols, DateTimeOffset loadedAt)
    {
        ArgumentNullException.ThrowIfNull(instruments);
        ArgumentNullException.ThrowIfNull(symbols);
        Instruments = instruments.ToFrozenDictionary(i => i.Symbol.Value, StringComparer.Ordinal);
        Symbols = symbols.Where(s => Instruments.ContainsKey(s.Symbol)).ToFrozenDictionary(s => s.Symbol, StringComparer.Ordinal);
        LoadedAt = loadedAt;
    }

    /// <summary>Every symbol the venue lists with filters and brackets, keyed by its text.</summary>
    public FrozenDictionary<string, Instrument> Instruments { get; }

    /// <summary>The exchangeInfo entry of each symbol in <see cref="Instruments"/>.</summary>
    public FrozenDictionary<string, SymbolInfo> Symbols { get; }

    /// <summary>When the venue was read (the catalog's clock).</summary>
    public DateTimeOffset LoadedAt { get; }

    public bool TryGet(Symbol symbol, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Instrument? instrument) =>
        Instruments.TryGetValue(symbol.Value, out instrument);
}
