using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// What a close or reduce (<see cref="ClosePositionHandler"/>) records after the venue's fill: the reduce or the close
/// against the record it ended, now or behind the Ledger writes still queued, and its position update.
/// </summary>
public sealed class CloseRecorder(LedgerBook ledger, FillRecorder fills, CloseLookup lookup)
{
    /// <summary>
    /// Records a reducing order against the record it reduced (one opened before it): now, or, when the Ledger did not
    /// answer the read (<paramref name="deferred"/>), behind the writes still queued. True when the write was queued.
    /// </summary>
    public async Task<bool> RecordReduceAsync(
        string symbol, LedgerV1.PositionRecord? record, bool deferred, OrderInfo order, string clientOrderId, string reason, bool resumed,
        PositionRisk? open, CancellationToken ct)
    {
        if (deferred)
        {
            // Streamed now, from the venue's fill (the record read may be stale or missing); not again when it lands.
            fills.Publish(PositionUpdateKind.Reduced, ReducedAtVenue(open, CloseLookup.OpenedBefore(record, order), order, resumed));
            ledger.AfterQueuedWrites($"reduce {symbol} {clientOrderId}", symbol, async (later, ct2) =>
            {
                var reduced = CloseLookup.OpenedBefore(later, order);
                // A resumed reduce whose position has closed since (the inline path answers it from its trades): booked
                // already when the Ledger holds its trades, and not a reduce the Ledger lacks.
                if (reduced is null && resumed && await lookup.BookedReduceAsync(symbol, order, ct2).ConfigureAwait(false) is not null)
                {
                    return;
                }

                await RecordReducedAsync(reduced, order, clientOrderId, reason, resumed, open, ct2, stream: false).ConfigureAwait(false);
            });
            return true;
        }

        return await RecordReducedAsync(CloseLookup.OpenedBefore(record, order), order, clientOrderId, reason, resumed, open, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a venue close against the symbol's record; without one, logs that the Ledger had none. <paramref name="stream"/>:
    /// as <see cref="FillRecorder.RecordCloseAsync"/>'s.
    /// </summary>
    public async Task<LedgerV1.PositionRecord?> RecordClosedAsync(
        string symbol, LedgerV1.PositionRecord? record, OrderInfo order, string clientOrderId, string reason, CancellationToken ct, bool stream = true)
    {
        if (record is { Status: Common.V1.PositionStatus.Closed or Common.V1.PositionStatus.Liquidated })
        {
            // A resumed close whose record is closed already: by this close's first attempt, or by a reconciliation
            // that found the venue flat after a crash. Its close is on record; writing it again under this key could
            // only be refused.
            return record;
        }

        if (record is not null)
        {
            return await fills.RecordCloseAsync(record, order, reason, "close:" + clientOrderId, ct, stream).ConfigureAwait(false);
        }

        await ledger.LogRiskEventAsync("close-unrecorded:" + clientOrderId, "reconciliation_mismatch", LedgerV1.RiskEventSeverity.Warning,
            $"Closed {symbol} at the venue, but the Ledger had no open record of it", symbol, ct).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Records a venue reduce (its fills, fee and realized PnL) against the symbol's record, when there is one. True when
    /// the write was queued (the Ledger did not take it within the inline budget): it lands in the background. Streams the
    /// reduce unless <paramref name="stream"/> is false (a write run from the queue: streamed when the venue made it).
    /// </summary>
    private async Task<bool> RecordReducedAsync(
        LedgerV1.PositionRecord? record, OrderInfo order, string clientOrderId, string reason, bool resumed, PositionRisk? venueOpen,
        CancellationToken ct, bool stream = true)
    {
        if (record is null)
        {
            if (stream)
            {
                fills.Publish(PositionUpdateKind.Reduced, ReducedAtVenue(venueOpen, null, order, resumed));
            }

            await ledger.LogRiskEventAsync("reduce-unrecorded:" + clientOrderId, "reconciliation_mismatch", LedgerV1.RiskEventSeverity.Warning,
                $"Reduced {order.Symbol} by {Wire.Format(order.ExecutedQty)} at the venue, but the Ledger had no open record of it", order.Symbol, ct)
                .ConfigureAwait(false);
            return false;
        }

        var realized = LedgerBook.RealizedPnl(record, order);
        if (resumed && await fills.AlreadyBookedAsync(record, order, venueOpen, null, record.Strategy, realized, ct).ConfigureAwait(false))
        {
            return false;
        }

        var orderFills = await fills.FillsOrNoneAsync(order, ct).ConfigureAwait(false);
        var after = await ledger.ReduceWithTradesAsync(new LedgerV1.ReducePositionRequest
        {
            IdempotencyKey = "reduce:" + clientOrderId,
            PositionId = record.PositionId,
            Quantity = Wire.Format(order.ExecutedQty),
            ExitPrice = Wire.Format(order.AvgPrice),
            Fee = Wire.Format(orderFills.Fee),
            ReducedAt = Wire.Timestamp(order.UpdateTime),
            Reason = LedgerBook.RecordedReason(reason),
        }, order, orderFills, realized, record.Strategy, ct).ConfigureAwait(false);
        if (stream)
        {
            // Queued (no answer): from the venue's fill. Before, the record as it stood before the reduce was streamed.
            fills.Publish(PositionUpdateKind.Reduced,
                after is not null ? PositionMapping.FromRecord(after, order.AvgPrice) : ReducedAtVenue(venueOpen, record, order, resumed));
        }

        return after is null;
    }

    /// <summary>
    /// The position a reduce left at the venue, for its update when the Ledger's record of it is not at hand: the venue's
    /// position less the fill, as the answer's remaining quantity is (a resumed reduce's position was read after its fill);
    /// the entry is the venue's, which a reduce leaves as it was. Null when the venue holds no position (nothing to show).
    /// </summary>
    private static Position? ReducedAtVenue(PositionRisk? open, LedgerV1.PositionRecord? record, OrderInfo order, bool resumed) =>
        open is null
            ? null
            : PositionMapping.FromFill(open.Symbol, open.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short,
                Math.Abs(open.PositionAmt) - (resumed ? 0m : order.ExecutedQty), open.EntryPrice, order.AvgPrice, open.Leverage, open.MarginType, record);
}
