using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// What a close or reduce (<see cref="ClosePositionHandler"/>) starts from and resumes against: the order already under
/// its client order id, the venue's position and the Ledger's record read together, the repair made first when they
/// differ, and the judgements of a resumed order (which record it closed or reduced, whether it is booked already).
/// Logs under <see cref="ClosePositionHandler"/>'s category.
/// </summary>
public sealed class CloseLookup(IBinanceClient venue, LedgerBook ledger, Reconciler reconciler, ILogger<ClosePositionHandler> logger)
{
    /// <summary>
    /// What a close or reduce starts from, read together: an order already placed under this client order id (a
    /// resumed call), the venue's open position on the symbol, and the Ledger's open record of it.
    /// </summary>
    /// <remarks>
    /// A Ledger that does not answer does not stop a close or reduce: the venue acts, and the recording waits in the
    /// background queue (<c>Deferred</c>) behind any write still queued, so it lands after the position's own record.
    /// </remarks>
    public async Task<(OrderInfo? Existing, PositionRisk? Open, LedgerV1.PositionRecord? Record, bool Deferred)> ReadSymbolAsync(
        string symbol, string clientOrderId, CancellationToken ct)
    {
        // Taken before the read: a queued write of this symbol landing during it would leave the read stale.
        var queued = ledger.HasQueuedWrites;
        var existingTask = venue.GetOrderAsync(symbol, clientOrderId, ct);
        var positionsTask = venue.GetPositionsAsync(symbol, ct);
        var recordTask = ledger.TryOpenRecordAsync(symbol, ct);
        var spentTask = ledger.SpentOnAsync(symbol, clientOrderId, ct);
        var existing = await existingTask.ConfigureAwait(false);
        if (existing is null)
        {
            await LedgerBook.RequireUnspentAsync(spentTask, clientOrderId, symbol).ConfigureAwait(false);
        }

        var open = (await positionsTask.ConfigureAwait(false)).FirstOrDefault(p => p.PositionAmt != 0m);
        var (record, answered) = await recordTask.ConfigureAwait(false);
        // Deferred whenever something is queued, record or not: a queued add or reduce changes the record this one is
        // recorded against (its entry, its size), so it is read again once they have landed.
        return (existing, open, record, !answered || queued);
    }

    /// <summary>
    /// Reconciles <paramref name="symbol"/> now, under the lock its open, close or reduce holds, because the Ledger's record
    /// differs from the venue's position (<paramref name="open"/>; null when the venue holds none). False when the repair
    /// failed (logged): the caller decides whether to go on. The repair is reconciliation's work under the symbol's lock (it
    /// may cancel or restore protective orders while a close waits on the lock): urgent, and not held to an open's hold
    /// limit, whoever asks for it, as in a pass.
    /// </summary>
    public async Task<bool> ReconcileBeforeOrderAsync(
        string action, string symbol, LedgerV1.PositionRecord record, PositionRisk? open, CancellationToken ct)
    {
        Log.ReconcilingBefore(logger, action, symbol, record.Quantity, open?.PositionAmt ?? 0m);
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        try
        {
            await reconciler.ReconcileHeldSymbolAsync(symbol, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RepairBeforeOrderFailed(logger, ex, symbol);
            return false;
        }
    }

    /// <summary>Whether the Ledger's open record is the venue's position: the same side and size.</summary>
    public static bool SameAsVenue(LedgerV1.PositionRecord record, PositionRisk open) =>
        record.Side == ExecutionWire.SideOfSize(open.PositionAmt) && Wire.Decimal(record.Quantity, "quantity") == Math.Abs(open.PositionAmt);

    /// <summary>
    /// Whether the venue's open position is the one that stood when <paramref name="order"/> filled: the Ledger's record
    /// of it was opened before the order or, with no record to go by (the Ledger not answering), the venue has changed
    /// it at no time since.
    /// </summary>
    public static bool StoodBefore(PositionRisk open, LedgerV1.PositionRecord? record, OrderInfo order) =>
        record?.OpenedAt is { } opened ? opened.ToDateTimeOffset() <= order.UpdateTime : open.UpdateTime <= order.UpdateTime;

    /// <summary>The record an order closed or reduced can only be one opened before that order filled.</summary>
    public static LedgerV1.PositionRecord? OpenedBefore(LedgerV1.PositionRecord? record, OrderInfo order) =>
        record?.OpenedAt is { } opened && opened.ToDateTimeOffset() > order.UpdateTime ? null : record;

    /// <summary>
    /// The record a reduce-only order was booked against and the PnL it realized, from the Ledger's trades of the order;
    /// null when the Ledger holds none of them (it was never booked). <c>Closed</c>: the order closed that record (the
    /// record is closed, and at the order's time: a close is dated at its order's last update, as a reduce is).
    /// </summary>
    public async Task<(string PositionId, decimal RealizedPnl, bool Closed)?> BookedReduceAsync(string symbol, OrderInfo order, CancellationToken ct)
    {
        var trades = (await ledger.OrderTradesAsync(symbol, order.ClientOrderId, ct).ConfigureAwait(false))
            .Where(t => !string.IsNullOrEmpty(t.PositionId)).ToList();
        if (trades.Count == 0)
        {
            return null;
        }

        var positionId = trades[0].PositionId;
        var reduced = await ledger.RecordAsync(positionId, ct).ConfigureAwait(false);
        var closed = reduced is { Status: Common.V1.PositionStatus.Closed or Common.V1.PositionStatus.Liquidated }
                     && reduced.ClosedAt is { } closedAt && closedAt.ToDateTimeOffset() == order.UpdateTime;
        return (positionId, trades.Sum(t => Wire.Decimal(t.RealizedPnl, "realized_pnl")), closed);
    }

    /// <summary>
    /// Whether a reduce by <paramref name="fraction"/> could have placed <paramref name="existing"/>: the fraction of
    /// the size before it, floored to the step as <see cref="ClosePositionHandler.ReduceSymbolAsync"/> does, equals its
    /// quantity. The size before is known only while the venue's position has not changed since the order filled (its
    /// update time is not later than the order's): then it is the position now plus what the order filled. After any later
    /// change (an add, another reduce) the size before cannot be told, and the retry is taken as one, as before: refusing
    /// an honest retry would send its caller to a new id and a second reduce.
    /// </summary>
    public static bool FractionCouldHavePlaced(OrderInfo existing, decimal fraction, Domain.Instruments.SymbolFilters filters, PositionRisk? open)
    {
        if (open is null || open.UpdateTime > existing.UpdateTime)
        {
            return true;
        }

        return filters.FloorToStep((Math.Abs(open.PositionAmt) + existing.ExecutedQty) * fraction) == existing.OrigQty;
    }
}
