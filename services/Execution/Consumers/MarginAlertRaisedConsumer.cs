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
    /// venue holds a position on, every symbol the Ledger still has open (a close whose recording failed left the
    /// venue flat there, but not the Ledger), and every symbol whose record was closed since the alert (a small
    /// position closed, and recorded, by a delivery that died before its inbox entry was completed).
    /// </summary>
    private async Task<(Binance.Models.OrderInfo Order, bool IsReduce)?> EarlierAttemptAsync(
        string key, DateTimeOffset alertedAt, List<Binance.Models.PositionRisk> positions, CancellationToken ct)
    {
        IEnumerable<string> recorded;
        try
        {
            var openTask = ledger.OpenRecordsAsync(ct);
            var closedTask = ledger.SymbolsClosedSinceAsync(alertedAt.AddMinutes(-1), ct);
            recorded = (await openTask.ConfigureAwait(false)).Select(r => r.Symbol).Concat(await closedTask.ConfigureAwait(false)).ToList();
        }
        catch (global::Grpc.Core.RpcException ex) when (Ledger.LedgerWrites.IsTransient(ex))
        {
            // The Ledger being down must not hold up a margin response: the venue's symbols are where a reduce sits.
            recorded = [];
        }

        var symbols = positions.Select(p => p.Symbol).Concat(recorded).Distinct(StringComparer.Ordinal).ToList();
        var reduces = symbols.Select(symbol => venue.GetOrderAsync(symbol, ReduceId(key), ct)).ToList();
        var closes = symbols.Select(symbol => venue.GetOrderAsync(symbol, CloseId(key), ct)).ToList();
        var reduce = (await Task.WhenAll(reduces).ConfigureAwait(false)).FirstOrDefault(o => o is not null);
        var close = (await Task.WhenAll(closes).ConfigureAwait(false)).FirstOrDefault(o => o is not null);
        return reduce is not null ? (reduce, true) : close is not null ? (close, false) : null;
    }

    /// <summary>
    /// The small largest position's close. One the venue filled only in part has still reduced it, which is what the
    /// alert asked: that is the answer (a redelivery would only meet the same partial order again).
    /// </summary>
    private async Task CloseSmallAsync(string symbol, string key)
    {
        try
        {
            await closer.CloseSymbolAsync(symbol, CloseId(key), "Margin alert: reduce (position below two steps)").ConfigureAwait(false);
        }
        catch (CloseIncompleteException ex) when (ex.StatusCode is global::Grpc.Core.StatusCode.Aborted or global::Grpc.Core.StatusCode.AlreadyExists)
        {
            Log.SmallCloseIncomplete(logger, symbol, ex.Status.Detail);
        }
    }

    // The reduce and the small-position close have ids of their own, so a redelivery knows which one it finds.
    private static string ReduceId(string key) => Mapping.ExecutionWire.Derived(key, "reduce");

    private static string CloseId(string key) => Mapping.ExecutionWire.Derived(key, "close");

    protected override async Task ConsumeOnce(ConsumeContext<MarginAlertRaised> context)
    {
        var alert = context.Message;
        var key = "ma-" + alert.EventId.ToString("N", CultureInfo.InvariantCulture);
        Log.MarginAlert(logger, alert.EventId, alert.Action.ToString(), alert.MarginRatio?.ToString(CultureInfo.InvariantCulture) ?? "none");
        if (alert.Action == MarginAlertAction.LiquidateAll)
        {
            var result = await closeAll.FlattenAsync(key, "Margin call: " + alert.Reason, CloseAllHandler.Actor, KillSwitchTrigger.LiquidateAll)
                .ConfigureAwait(false);
            CloseAllHandler.ThrowIfIncomplete(result, key, killSwitchRequired: true);
            return;
        }

        var positions = (await venue.GetPositionsAsync(null, context.CancellationToken).ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).ToList();
        if (await EarlierAttemptAsync(key, alert.OccurredAt, positions, context.CancellationToken).ConfigureAwait(false) is { } earlier)
        {
            // A redelivery after this alert's order was placed (a later step failed): finish that order, on its symbol.
            // Planning again would pick the largest position as it is now, which may be another symbol.
            var (placed, isReduce) = earlier;
            Log.Resuming(logger, placed.Symbol, key, placed.Status.ToString());
            if (isReduce)
            {
                await closer.ReduceSymbolAsync(placed.Symbol, ReduceId(key), fraction: null, quantity: placed.OrigQty, "Margin alert: reduce the largest position by half")
                    .ConfigureAwait(false);
            }
            else
            {
                await CloseSmallAsync(placed.Symbol, key).ConfigureAwait(false);
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
            await CloseSmallAsync(order.Symbol.Value, key).ConfigureAwait(false);
            return;
        }

        await closer.ReduceSymbolAsync(order.Symbol.Value, ReduceId(key), fraction: null, quantity: order.Quantity, "Margin alert: reduce the largest position by half")
            .ConfigureAwait(false);
    }
}
