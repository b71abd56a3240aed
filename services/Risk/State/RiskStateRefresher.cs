using Microsoft.Extensions.Options;
using TradeEngine.Risk.Options;

namespace TradeEngine.Risk.State;

/// <summary>Re-reads the risk state from the Ledger every <see cref="RiskOptions.StateRefreshSeconds"/>.</summary>
public sealed partial class RiskStateRefresher(
    RiskStateCache cache,
    TimeProvider time,
    IOptions<RiskOptions> options,
    ILogger<RiskStateRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.StateRefreshSeconds), time);
        do
        {
            try
            {
                await cache.RefreshAsync(stoppingToken).ConfigureAwait(false);
                if (failing)
                {
                    LogRecovered(logger);
                }

                failing = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Logged once per outage; the cache turns unknown after StateMaxAgeSeconds and checks fail closed.
                if (!failing)
                {
                    LogFailed(logger, ex.GetType().Name, ex.Message);
                }

                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Risk state refresh from the Ledger failed: {ErrorType}: {Error}")]
    private static partial void LogFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Risk state refresh from the Ledger recovered")]
    private static partial void LogRecovered(ILogger logger);
}
