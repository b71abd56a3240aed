using System.Collections.Frozen;

namespace TradeEngine.Domain.Instruments;

/// <summary>
/// The bracket tables shipped with Domain as embedded JSON (Data/brackets/*.json), loaded once
/// on first use. The Paper venue serves these and tests rely on them; live trading should
/// refresh them from the exchange.
/// </summary>
public static class BracketTables
{
    private const string ResourcePrefix = "TradeEngine.Domain.Data.brackets.";

    private static readonly Lazy<FrozenDictionary<string, BracketTable>> Tables = new(Load);

    public static IEnumerable<BracketTable> All => Tables.Value.Values;

    public static BracketTable For(Symbol symbol)
    {
        if (!TryFor(symbol, out var table))
        {
            Guard.Fail("symbol", $"has no leverage bracket table: {symbol}");
        }

        return table;
    }

    public static bool TryFor(Symbol symbol, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BracketTable? table) =>
        Tables.Value.TryGetValue(symbol.Value, out table);

    /// <summary>The bracket holding <paramref name="notional"/> for the symbol.</summary>
    public static LeverageBracket Find(Symbol symbol, decimal notional) => For(symbol).Find(notional);

    private static FrozenDictionary<string, BracketTable> Load()
    {
        var assembly = typeof(BracketTables).Assembly;
        var tables = new Dictionary<string, BracketTable>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"Embedded resource {name} could not be opened.");
            using var reader = new StreamReader(stream);
            var table = BracketTableJson.Parse(reader.ReadToEnd());
            tables.Add(table.Symbol.Value, table);
        }

        return tables.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
