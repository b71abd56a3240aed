using System.Globalization;
using MassTransit;
using TradeEngine.Binance;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Positions;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.Venue;
using TradeEngine.Messaging.Inbox;
using TradeEngine.Risk.V1;

namespace TradeEngine.Execution.Consumers;

/// <summary>
/// The plan's margin responses. Reduce: halve the largest position by notional at mark (Domain's choice, rounded
/// down to the step). Liquidate all: the emergency close-all, kill switch included. The venue client order ids derive
/// from the event id, so even a redelivery the inbox did not catch (a crash between acting and recording) finds the
/// orders it already placed instead of acting twice; a redelivered reduce is finished on the symbol it was placed on,
/// never planned again (the largest position may be another one by then).
/// </summary>
public sealed class MarginAlertRaisedConsumer(
    IInbox inbox,
    IBinanceClient venue,
    InstrumentDirectory instruments,
    ClosePositionHandler closer,
    CloseAllHandler closeAll,
    Ledger.LedgerBook ledger,
    ILogger<MarginAlertRaisedConsumer> logger) : InboxConsumer<MarginAlertRaised>(inbox, logger)
{
    /// <summary>
    /// The order an earlier delivery of this alert placed, if any: looked up under the alert's key on every symbol the
    /// venue holds a position on, and every symbol the Ledger still has open (a close whose recording failed left the
    /// venue flat there, but not the Ledger).
    /// </summary>
    private async Task<Binance.Models.OrderInfo?> EarlierAttemptAsync(string key, List<Binance.Models.PositionRisk> positions, CancellationToken ct)
    {
        var symbols = positions.Select(p => p.Symbol)
            .Concat((await ledger.OpenRecordsAsync(ct).ConfigureAwait(false)).Select(r => r.Symbol))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var found = await Task.WhenAll(symbols.Select(symbol => venue.GetOrderAsync(symbol, key, ct))).ConfigureAwait(false);
        return found.FirstOrDefault(o => o is not null);
    }

    protected override async Task ConsumeOnce(ConsumeContext<MarginAlertRaised> context)
    {
        var alert = context.Message;
        var key = "ma-" + alert.EventId.ToString("N", CultureInfo.InvariantCulture);
        Log.MarginAlert(logger, alert.EventId, alert.Action.ToString(), alert.MarginRatio?.ToString(CultureInfo.InvariantCulture) ?? "none");
        if (alert.Action == MarginAlertAction.LiquidateAll)
        {
            var result = await closeAll.FlattenAsync(key, "Margin call: " + alert.Reason, CloseAllHandler.Actor, KillSwitchTrigger.LiquidateAll)
                .ConfigureAwait(false);
            CloseAllHandler.ThrowIfIncomplete(result, key);
            return;
        }

        var positions = (await venue.GetPositionsAsync(null, context.CancellationToken).ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).ToList();
        if (await EarlierAttemptAsync(key, positions, context.CancellationToken).ConfigureAwait(false) is { } earlier)
        {
            // A redelivery after this alert's order was placed (a later step failed): finish that order, on its symbol.
            // Planning again would pick the largest position as it is now, which may be another symbol.
            Log.Resuming(logger, earlier.Symbol, key, earlier.Status.ToString());
            if (positions.Any(p => p.Symbol == earlier.Symbol))
            {
                // Part of the position is left: the order was the reduce.
                await closer.ReduceSymbolAsync(earlier.Symbol, key, fraction: null, quantity: earlier.OrigQty, "Margin alert: reduce the largest position by half")
                    .ConfigureAwait(false);
            }
            else
            {
                await closer.CloseSymbolAsync(earlier.Symbol, key, "Margin alert: reduce (position below two steps)").ConfigureAwait(false);
            }

            return;
        }

        var marked = new MarkedPosition[positions.Count];
        for (var i = 0; i < positions.Count; i++)
        {
            var p = positions[i];
            var step = (await instruments.FindAsync(p.Symbol, context.CancellationToken).ConfigureAwait(false))?.Filters.StepSize ?? 0.001m;
            marked[i] = new MarkedPosition(new Symbol(p.Symbol), p.PositionAmt, p.MarkPrice, step);
        }

        if (!ReducePlanner.TryChooseReduceByHalf(marked, out var order))
        {
            Log.NothingToReduce(logger, alert.EventId);
            return;
        }

        var size = Math.Abs(marked[order.Index].SignedSize);
        if (order.Quantity >= size)
        {
            await closer.CloseSymbolAsync(order.Symbol.Value, key, "Margin alert: reduce (position below two steps)").ConfigureAwait(false);
            return;
        }

        await closer.ReduceSymbolAsync(order.Symbol.Value, key, fraction: null, quantity: order.Quantity, "Margin alert: reduce the largest position by half")
            .ConfigureAwait(false);
    }
}
