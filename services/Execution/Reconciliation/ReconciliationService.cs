using Microsoft.Extensions.Options;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Options;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>Runs a reconciliation at start (retrying until one succeeds: opening stays closed until then) and every interval after.</summary>
public sealed class ReconciliationService(
    Reconciler reconciler,
    ReconciliationState state,
    IOptions<ExecutionOptions> options,
    TimeProvider time,
    ILogger<ReconciliationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var mismatches = await reconciler.ReconcileAsync(stoppingToken).ConfigureAwait(false);
                state.MarkSucceeded(time.GetUtcNow(), mismatches);
                wait = options.Value.ReconcileInterval;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Found by the pass's read of the mode, or by a symbol's rows (the mode changed during the pass).
                if (ex is HedgeModeException || (ex is AggregateException all && all.InnerExceptions.Any(e => e is HedgeModeException)))
                {
                    state.MarkBlocked(HedgeModeException.Text);
                }

                Log.ReconcileFailed(logger, ex);
                // In hedge mode too the interval: the operator must switch the mode; retrying every few seconds would only
                // spend the venue's weight (and log the same) until then.
                wait = state.IsReady || state.Blocked is not null ? options.Value.ReconcileInterval : options.Value.ReconcileRetryDelay;
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
