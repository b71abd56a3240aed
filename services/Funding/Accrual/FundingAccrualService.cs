using Microsoft.Extensions.Options;
using TradeEngine.Domain;
using TradeEngine.Funding.Options;

namespace TradeEngine.Funding.Accrual;

/// <summary>
/// Runs <see cref="FundingAccrual"/> at start (which backfills what was missed while the service was down) and then
/// every <see cref="FundingAccrualOptions.PollSeconds"/>, so each funding time is posted within one poll of it.
/// "Now" comes from the injected <see cref="TimeProvider"/>, so a simulation can drive it with the venue's clock.
/// </summary>
public sealed partial class FundingAccrualService(
    FundingAccrual accrual,
    IOptions<FundingOptions> options,
    ILogger<FundingAccrualService> logger) : BackgroundService
{
    private long _passes;

    /// <summary>Passes run since start, failed ones too (what a test waits on to know passes ran, rather than a clock).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Nobody waits on a pass: its venue reads are background work and stop first when the IP's limits run short.
        using var background = VenueRequestPriority.Enter(VenuePriority.Background);
        // A real-time timer: the poll is about load, the settlement times come from the clock.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.Accrual.PollSeconds));
        do
        {
            try
            {
                await accrual.RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, ex.GetType().Name, ex.Message);
            }

            Interlocked.Increment(ref _passes);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding accrual pass failed; retrying next poll: {ErrorType}: {Error}")]
    private static partial void LogPassFailed(ILogger logger, string errorType, string error);
}
