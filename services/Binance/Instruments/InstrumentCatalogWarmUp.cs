using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;

namespace TradeEngine.Binance.Instruments;

/// <summary>
/// Starts the instrument catalog's first read as the service starts, in the background (the start does not wait for the
/// venue). An open's quote or check would otherwise make that read itself, holding its symbol's lock, and is not kept
/// waiting past its hold limit for it (RESOURCE_EXHAUSTED instead): warmed, the catalog answers at once, or the open joins
/// the read already under way. A failed read is logged; the next use of the catalog reads again.
/// </summary>
public sealed partial class InstrumentCatalogWarmUp(VenueInstrumentCatalog catalog, ILogger<InstrumentCatalogWarmUp> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = WarmAsync();
        return Task.CompletedTask;
    }

    // The read has its own timeout and is shared; a stop does not wait for it.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WarmAsync()
    {
        try
        {
            await catalog.GetSnapshotAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BinanceException or HttpRequestException or OperationCanceledException)
        {
            // The client's messages carry the venue's code and text, never a key or a signature.
            LogWarmUpFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The venue's instrument catalog could not be read at start ({ErrorType}: {Error}); it is read again on first use")]
    private static partial void LogWarmUpFailed(ILogger logger, string errorType, string error);
}
