using TradeEngine.Binance.Models;

namespace TradeEngine.Binance.Internal;

/// <summary>exchangeInfo and leverage brackets kept for pre-send validation, refreshed after a TTL.</summary>
internal sealed class InstrumentCache(TimeProvider time, TimeSpan ttl)
{
    private volatile Entry<ExchangeInfo>? _exchangeInfo;
    private readonly Dictionary<string, Entry<SymbolBrackets>> _brackets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public async Task<ExchangeInfo> ExchangeInfoAsync(Func<CancellationToken, Task<ExchangeInfo>> load, CancellationToken ct)
    {
        var e = _exchangeInfo;
        if (e is not null && time.GetUtcNow() - e.LoadedAt < ttl)
        {
            return e.Value;
        }

        var value = await load(ct).ConfigureAwait(false);
        return value;
    }

    public void Store(ExchangeInfo info) => _exchangeInfo = new Entry<ExchangeInfo>(info, time.GetUtcNow());

    public async Task<SymbolBrackets?> BracketsAsync(string symbol, Func<CancellationToken, Task<IReadOnlyList<SymbolBrackets>>> load, CancellationToken ct)
    {
        lock (_lock)
        {
            if (_brackets.TryGetValue(symbol, out var e) && time.GetUtcNow() - e.LoadedAt < ttl)
            {
                return e.Value;
            }
        }

        var all = await load(ct).ConfigureAwait(false);
        return all.FirstOrDefault(b => b.Symbol == symbol);
    }

    public void Store(IEnumerable<SymbolBrackets> brackets)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var b in brackets)
            {
                _brackets[b.Symbol] = new Entry<SymbolBrackets>(b, now);
            }
        }
    }

    private sealed record Entry<T>(T Value, DateTimeOffset LoadedAt);
}
