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
/// orders it already placed instead of acting twice.
/// </summary>
public sealed class MarginAlertRaisedConsumer(
    IInbox inbox,
    IBinanceClient venue,
    InstrumentDirectory instruments,
    ClosePositionHandler closer,
    CloseAllHandler closeAll,
    ILogger<MarginAlertRaisedConsumer> logger) : InboxConsumer<MarginAlertRaised>(inbox, logger)
{
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
