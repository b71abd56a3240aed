using Microsoft.Extensions.Options;
using TradeEngine.Domain;
using TradeEngine.Funding.Options;

namespace TradeEngine.Funding.Transfers;

/// <summary>
/// Runs <see cref="TransferBooker"/> at start and then every <see cref="FundingTransferOptions.PollSeconds"/> (one
/// income read, weight 30, per 7-day span of the run). Off without the venue's API credentials: transfers are read from a
/// signed endpoint.
/// </summary>
public sealed partial class TransferPoller(
    TransferBooker booker,
    IOptions<FundingOptions> options,
    ILogger<TransferPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!booker.HasCredentials)
        {
            LogOff(logger);
            return;
        }

        // Nobody waits on a poll (Risk's ask before a latch books through its own call): its venue reads are background
        // work and stop first when the IP's limits run short.
        using var background = VenueRequestPriority.Enter(VenuePriority.Background);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.Transfers.PollSeconds));
        do
        {
            try
            {
                await booker.RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (TransferBookingException)
            {
                // Logged by the booker with its cause; the next poll reads from the same watermark.
            }
            catch (Exception ex)
            {
                LogRunFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transfer poller off: no venue API credentials (Binance:ApiKey, Binance:ApiSecret), so transfers cannot be read")]
    private static partial void LogOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer run failed; retrying next poll: {ErrorType}: {Error}")]
    private static partial void LogRunFailed(ILogger logger, string errorType, string error);
}
