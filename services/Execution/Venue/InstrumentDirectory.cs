using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Options;

namespace TradeEngine.Execution.Venue;

/// <summary>
/// The venue's symbols and trading filters (exchangeInfo), cached for <see cref="ExecutionOptions.InstrumentCacheTtl"/>
/// with one request in flight however many callers wait. A symbol the venue does not list is unknown.
/// </summary>
public sealed class InstrumentDirectory(IBinanceClient venue, TimeProvider time, IOptions<ExecutionOptions> options)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private ExchangeInfo? _info;
    private DateTimeOffset _fetchedAt;

    public async ValueTask<SymbolInfo?> FindAsync(string symbol, CancellationToken cancellationToken)
    {
        var info = await GetAsync(cancellationToken).ConfigureAwait(false);
        return info.Find(symbol);
    }

    public async ValueTask<ExchangeInfo> GetAsync(CancellationToken cancellationToken)
    {
        var current = _info;
        if (current is not null && time.GetUtcNow() - _fetchedAt < options.Value.InstrumentCacheTtl)
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_info is not null && time.GetUtcNow() - _fetchedAt < options.Value.InstrumentCacheTtl)
            {
                return _info;
            }

            _info = await venue.GetExchangeInfoAsync(cancellationToken).ConfigureAwait(false);
            _fetchedAt = time.GetUtcNow();
            return _info;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
