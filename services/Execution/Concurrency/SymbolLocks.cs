using System.Collections.Concurrent;

namespace TradeEngine.Execution.Concurrency;

/// <summary>
/// One lock per symbol: opens, closes, reduces, margin responses and reconciliation of a symbol run one at a time,
/// so two requests for one symbol never race on the venue or the Ledger. Different symbols run in parallel.
/// </summary>
public sealed class SymbolLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async ValueTask<Releaser> AcquireAsync(string symbol, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(symbol, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    /// <summary>The symbols whose lock someone holds now.</summary>
    public IReadOnlyList<string> Held() => [.. _locks.Where(kv => kv.Value.CurrentCount == 0).Select(kv => kv.Key)];

    public readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
