using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

// FillRecorder's close at once of a position whose stop-loss could not be placed, the recording of a closing fill, and
// an order's fills as they are recorded.
public sealed partial class FillRecorder
{
    /// <param name="recordingFailure">
    /// Why recording the open failed, if it did. The close is still booked against the symbol's open record, if any, at
    /// the venue's price, so the record does not stay open (a later open would be added to it). That record lacks this
    /// fill, so a risk event says what the venue did and that the open's fill is missing from the Ledger.
    /// </param>
    private async Task<OrderInfo?> CloseUnprotectedAsync(OpenCommand command, LedgerV1.PositionRecord? record, Exception? recordingFailure, CancellationToken ct)
    {
        var closeId = ExecutionWire.Derived(command.ClientOrderId, "slfail");
        var open = await OpenAtVenueAsync(command.Symbol, ct).ConfigureAwait(false);
        var existing = await venue.GetOrderAsync(command.Symbol, closeId, ct).ConfigureAwait(false);
        var order = existing ?? (open is null ? null : (await venue.PlaceOrderAsync(
            new NewOrder(command.Symbol, ExecutionWire.ClosingOrder(command.Side), OrderType.Market, Math.Abs(open.PositionAmt), ReduceOnly: true),
            closeId, ct).ConfigureAwait(false)).Order);
        if (order is null)
        {
            await protective.CancelAllAsync(command.Symbol, ct).ConfigureAwait(false);
            return null;
        }

        order = await VenueOrders.EndedAsync(venue, order, ct, orStillWorking: true).ConfigureAwait(false);
        if (order.ExecutedQty < order.OrigQty)
        {
            // The book could not take the close (in whole or part): nothing is booked as a close (the open's record
            // stands, and reconciliation books a part that filled as the size difference it is), the orders still at
            // the venue (a take-profit) stay, and the caller is told the position stands without its stop-loss.
            await ledger.LogRiskEventAsync("slfail-unfilled:" + closeId, "unprotected_position", LedgerV1.RiskEventSeverity.Critical,
                $"{command.Symbol}: the stop-loss of {command.ClientOrderId} could not be placed and the close at once filled {Wire.Format(order.ExecutedQty)} of {Wire.Format(order.OrigQty)} ({order.Status}); the position stands without a stop-loss",
                command.Symbol, ct).ConfigureAwait(false);
            return order;
        }

        // Closed: what else stood for it goes now, not before; a cancel that fails still leaves the close to be recorded.
        await protective.CancelAllAfterCloseAsync(command.Symbol, closeId, ct).ConfigureAwait(false);

        if (recordingFailure is not null)
        {
            await ledger.LogRiskEventAsync("open-unrecorded:" + closeId, "reconciliation_mismatch", LedgerV1.RiskEventSeverity.Warning,
                $"Closed {command.Symbol} at the venue ({Wire.Format(order.ExecutedQty)} at {Wire.Format(order.AvgPrice)}: its stop-loss could not be placed), but recording its open {command.ClientOrderId} failed ({recordingFailure.Message}): that fill is missing from the Ledger",
                command.Symbol, ct).ConfigureAwait(false);
        }

        if (record is null)
        {
            // The open's own record is still queued (the Ledger did not answer): the close is recorded right after it, and
            // streamed now, from the venue (see Publish).
            Publish(PositionUpdateKind.Closed, open is null ? null : PositionMapping.FromFill(command.Symbol, command.Side, order.ExecutedQty,
                open.EntryPrice, order.AvgPrice, open.Leverage, open.MarginType, null));
            ledger.AfterQueuedWrites($"close {command.Symbol} {closeId}", command.Symbol, async (later, ct2) =>
            {
                if (later is not null)
                {
                    await RecordCloseAsync(later, order, "stop-loss could not be placed", "close:" + closeId, ct2, stream: false).ConfigureAwait(false);
                    return;
                }

                // The open's own write never landed (the Ledger refused it): no record to close, but the close the
                // venue made is not passed over in silence.
                await ledger.LogRiskEventAsync("close-unrecorded:" + closeId, "reconciliation_mismatch", LedgerV1.RiskEventSeverity.Warning,
                    $"Closed {command.Symbol} at the venue ({Wire.Format(order.ExecutedQty)} at {Wire.Format(order.AvgPrice)}: its stop-loss could not be placed), but the Ledger had no open record of it",
                    command.Symbol, ct2).ConfigureAwait(false);
            });
            return order;
        }

        await RecordCloseAsync(record, order, "stop-loss could not be placed", "close:" + closeId, ct).ConfigureAwait(false);
        return order;
    }

    /// <summary>Records a closing fill of the whole position: the trade and the closed record.</summary>
    /// <param name="stream">
    /// Whether to stream the close: false for a write run from the background queue, whose close was streamed when the
    /// venue made it (see <see cref="Publish(PositionUpdateKind, Position)"/>).
    /// </param>
    public async Task<LedgerV1.PositionRecord?> RecordCloseAsync(
        LedgerV1.PositionRecord record, OrderInfo order, string reason, string key, CancellationToken ct, bool stream = true)
    {
        var orderFills = await FillsOrNoneAsync(order, ct).ConfigureAwait(false);
        var closed = await ledger.CloseByOrderAsync(record, order, orderFills, reason, key, ct).ConfigureAwait(false);
        if (stream)
        {
            Publish(PositionUpdateKind.Closed, closed ?? record, order.AvgPrice);
        }

        return closed;
    }

    /// <summary>
    /// An order's fills, or none when the venue will not list them: the order filled, and recording it (as one trade at
    /// its average price, without the fee detail) must not wait on a read that fails. The warning log says so.
    /// </summary>
    public async Task<OrderFills> FillsOrNoneAsync(OrderInfo order, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(order);
        try
        {
            return await ledger.FillsAsync(order, ct).ConfigureAwait(false);
        }
        catch (BinanceException ex)
        {
            Log.FillsUnreadable(logger, ex, order.Symbol, order.OrderId);
            return new OrderFills(0m, []);
        }
    }
}
