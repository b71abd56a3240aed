using System.Collections.Concurrent;
using System.Diagnostics;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// An open that asked for a stop-loss or take-profit and failed without knowing whether its order went out (its market
/// order still working past the end wait, an unknown outcome, the venue out of reach after the fill) is completed here if
/// its caller does not retry: the stop-loss it asked for is what stands between the position and an unbounded loss.
/// Before, such a position (filled later, or filled and left as the call failed) stood without it until the caller
/// retried, and one whose caller never did was adopted by reconciliation unprotected.
/// </summary>
/// <remarks>
/// Only ever a resume: the open is run again, as the caller's retry would be (through the same deduplication, so a retry
/// arriving meanwhile shares the run), once an order under its client order id is found at the venue and has ended with
/// something filled; an order never found is never placed here. The position it filled is then protected (or, when the
/// stop-loss cannot be placed, closed at once) and recorded as the caller's. Tried with back-off for
/// <see cref="CompletionWindow"/>, while the service runs (a restart forgets it: reconciliation adopts the position then).
/// </remarks>
public sealed partial class OpenPositionHandler
{
    /// <summary>How long an open whose outcome is unknown is watched for an order to complete.</summary>
    public static readonly TimeSpan CompletionWindow = TimeSpan.FromMinutes(10);

    /// <summary>How long an order not found at the venue is looked for again (a placement's outcome in doubt is settled well before).</summary>
    private static readonly TimeSpan NotFoundFor = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan FirstLookAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestLookInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, byte> _completing = new(StringComparer.Ordinal);

    private void CompleteInBackground(OpenPositionRequest request, OpenCommand command)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested || !_completing.TryAdd(command.ClientOrderId, 0))
        {
            return;
        }

        LogCompletionScheduled(logger, command.Symbol, command.ClientOrderId);
        _ = Task.Run(async () =>
        {
            try
            {
                await CompleteAsync(request, command, lifetime.ApplicationStopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                LogCompletionEnded(logger, ex, command.Symbol, command.ClientOrderId, ex.Message);
            }
            finally
            {
                _completing.TryRemove(command.ClientOrderId, out _);
            }
        });
    }

    private async Task CompleteAsync(OpenPositionRequest request, OpenCommand command, CancellationToken stopping)
    {
        var watched = Stopwatch.StartNew();
        var interval = FirstLookAfter;
        while (watched.Elapsed < CompletionWindow)
        {
            await Task.Delay(interval, stopping).ConfigureAwait(false);
            interval = Backoff.Doubled(interval, LongestLookInterval);
            OrderInfo? order;
            try
            {
                order = await venue.GetOrderAsync(command.Symbol, command.ClientOrderId, stopping).ConfigureAwait(false);
            }
            catch (BinanceException)
            {
                continue;
            }

            if (order is null)
            {
                if (watched.Elapsed >= NotFoundFor)
                {
                    LogCompletionNotNeeded(logger, command.Symbol, command.ClientOrderId, "no order under its id at the venue");
                    return;
                }

                continue;
            }

            if (order.Status is OrderStatus.New or OrderStatus.PartiallyFilled)
            {
                continue;
            }

            if (order.ExecutedQty <= 0m)
            {
                LogCompletionNotNeeded(logger, command.Symbol, command.ClientOrderId, $"its order ended {order.Status} with nothing filled");
                return;
            }

            try
            {
                var completed = await OpenAsync(request, resumeOnly: true, stopping).ConfigureAwait(false);
                LogCompleted(logger, command.Symbol, command.ClientOrderId, completed.PositionId);
                return;
            }
            catch (Exception ex) when (RequestDeduplicator.OutcomeUnknown(ex) && !stopping.IsCancellationRequested)
            {
                // Still not complete (the venue or the Ledger out of reach): looked at again.
            }
        }

        LogCompletionEnded(logger, null, command.Symbol, command.ClientOrderId, $"not complete after {CompletionWindow.TotalMinutes:0} min; reconciliation adopts what the venue holds");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open {ClientOrderId} on {Symbol} failed with its outcome unknown and asked for protection: watching for its order to complete it")]
    private static partial void LogCompletionScheduled(ILogger logger, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open {ClientOrderId} on {Symbol} completed without its caller's retry: position {PositionId}, protected as asked")]
    private static partial void LogCompleted(ILogger logger, string symbol, string clientOrderId, string positionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Open {ClientOrderId} on {Symbol} needs no completion: {Why}")]
    private static partial void LogCompletionNotNeeded(ILogger logger, string symbol, string clientOrderId, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Open {ClientOrderId} on {Symbol} could not be completed: {Why}")]
    private static partial void LogCompletionEnded(ILogger logger, Exception? exception, string symbol, string clientOrderId, string why);
}
