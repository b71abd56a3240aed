using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// Close and reduce, keyed by the client order id like an open: the venue order carries it, a retry finds it at the
/// venue and resumes, and the Ledger writes are keyed by it. Closing cancels the symbol's protective orders once the close
/// has filled, never before.
/// </summary>
public sealed class ClosePositionHandler(
    IBinanceClient venue,
    InstrumentDirectory instruments,
    RequestDeduplicator deduplicator,
    SymbolLocks locks,
    ProtectiveOrders protective,
    LedgerBook ledger,
    FillRecorder fills,
    Reconciler reconciler,
    IHostApplicationLifetime lifetime,
    ILogger<ClosePositionHandler> logger)
{
    public async Task<ClosePositionResponse> CloseAsync(ClosePositionRequest request, CancellationToken cancellationToken)
    {
        var clientOrderId = ExecutionWire.ClientOrderId(request.ClientOrderId);
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "Manual close" : Wire.Required(request.Reason, "reason", 256);
        // The venue's instrument list last: a malformed request is INVALID_ARGUMENT even while the list is out of reach.
        var symbol = await RequireSymbolAsync(request.Symbol, cancellationToken).ConfigureAwait(false);
        var (response, replayed) = await deduplicator.RunAsync(
            "close", clientOrderId, request, () => Detached.Run(() => CloseSymbolAsync(symbol, clientOrderId, reason))).ConfigureAwait(false);
        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    public async Task<ReducePositionResponse> ReduceAsync(ReducePositionRequest request, CancellationToken cancellationToken)
    {
        var clientOrderId = ExecutionWire.ClientOrderId(request.ClientOrderId);
        decimal? fraction = null;
        decimal? quantity = null;
        switch (request.AmountCase)
        {
            case ReducePositionRequest.AmountOneofCase.Fraction:
                fraction = Wire.Positive(request.Fraction, "fraction");
                if (fraction >= 1m)
                {
                    throw new RequestValidationException("fraction", "must be between 0 and 1 (use ClosePosition to close it all)");
                }

                break;
            case ReducePositionRequest.AmountOneofCase.Quantity:
                quantity = Wire.Positive(request.Quantity, "quantity");
                break;
            default:
                throw new RequestValidationException("amount", "fraction or quantity is required");
        }

        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "Manual reduce" : Wire.Required(request.Reason, "reason", 256);
        // The venue's instrument list last, as for a close.
        var symbol = await RequireSymbolAsync(request.Symbol, cancellationToken).ConfigureAwait(false);
        var (response, replayed) = await deduplicator.RunAsync(
            "reduce", clientOrderId, request,
            () => Detached.Run(() => ReduceSymbolAsync(symbol, clientOrderId, fraction, quantity, reason))).ConfigureAwait(false);
        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    /// <summary>Closes the whole position on <paramref name="symbol"/> with a reduce-only market order keyed by <paramref name="clientOrderId"/>.</summary>
    /// <param name="cancelOrders">
    /// Whether the symbol's open orders are cancelled once the close has filled (<see cref="CancelAfterCloseAsync"/>).
    /// Close-all cancels them itself once the position is flat, orders of a symbol with no position too.
    /// </param>
    public async Task<ClosePositionResponse> CloseSymbolAsync(string symbol, string clientOrderId, string reason, bool cancelOrders = true)
    {
        var stopping = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(symbol, stopping).ConfigureAwait(false);
        var (existing, open, record, deferred) = await ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
        // Once the venue has the order (found under this id, or placed below), waiting for it to end, the cancels after it
        // and its record are not cut short by the service stopping, which waits for this call, as after an open's fill.
        // Cut short, the close was never recorded, and reconciliation later booked it as a close at the venue.
        var ct = CancellationToken.None;
        OrderInfo order;
        if (existing is not null)
        {
            ExecutionWire.RequireSameOrder(existing, clientOrderId, side: null, reduceOnly: true, quantity: null);
            existing = await VenueOrders.EndedAsync(venue, existing, ct).ConfigureAwait(false);
            // Read again now the order has ended, as a resumed reduce does: the position read beside the look-up could
            // predate the order's fills, and judged against it a close that filled would read as one that left the
            // position standing.
            open = await fills.OpenAtVenueAsync(symbol, ct).ConfigureAwait(false);

            if (existing.ExecutedQty <= 0m)
            {
                throw Unfilled(clientOrderId, existing);
            }

            if (open is not null && StoodBefore(open, record, existing))
            {
                // The position that stood when this order filled is still open: the order was not its close (an earlier
                // reduce's id given again, or a close the venue filled in part). Taking it as the close would book a
                // close the venue never made; what it did fill is booked as the reduce it was (once: a reduce already
                // booked is found).
                await RecordReduceAsync(symbol, record, deferred, existing, clientOrderId, reason + " (close filled in part)", resumed: true, open, ct)
                    .ConfigureAwait(false);
                throw new CloseIncompleteException(new Status(StatusCode.AlreadyExists,
                    $"client_order_id: {clientOrderId} is order {existing.OrderId} ({Wire.Format(existing.ExecutedQty)} {symbol}), which did not close the position still open ({Wire.Format(open.PositionAmt)}); a close needs a client_order_id of its own"));
            }

            Log.Resuming(logger, symbol, clientOrderId, existing.Status.ToString());
            order = existing;
            if (!deferred)
            {
                // The record this order closed: not one opened after it (a position opened since its close), but the
                // last one closed, at or after the order's fill.
                record = OpenedBefore(record, order) ?? await ledger.ClosedByRecordAsync(symbol, order, ct).ConfigureAwait(false);
            }
        }
        else
        {
            if (open is not null && !deferred && record is not null && !SameAsVenue(record, open))
            {
                // As a reduce's: the record is repaired first, so the close books the venue's whole position (an add made
                // at the venue with its fills) and not the record's part of it. A close is not held back for that: when
                // the repair fails, the position is closed all the same and the minute's pass books the rest.
                await ReconcileBeforeOrderAsync("Close", symbol, record, open, stopping).ConfigureAwait(false);
                (_, open, record, deferred) = await ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
            }

            if (open is null)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"symbol: no open position on {symbol}"));
            }

            var side = open.PositionAmt > 0 ? Domain.Side.Long : Domain.Side.Short;
            try
            {
                order = (await venue.PlaceOrderAsync(
                    new NewOrder(symbol, ExecutionWire.ClosingOrder(side), OrderType.Market, Math.Abs(open.PositionAmt), ReduceOnly: true),
                    clientOrderId, stopping).ConfigureAwait(false)).Order;
            }
            catch (Binance.Errors.BinanceApiException ex) when (ex.Kind == Binance.Errors.BinanceErrorKind.ReduceOnlyRejected)
            {
                if (await fills.OpenAtVenueAsync(symbol, stopping).ConfigureAwait(false) is not null)
                {
                    throw;
                }

                // The reduce-only close was refused because nothing was left to reduce: the position closed at the venue
                // between the read and the order (its stop-loss or take-profit fired, or it was liquidated). That is a
                // symbol with no open position, as if the close had come a moment later; reconciliation books the
                // venue's close. What the position's own order left behind is cancelled.
                await CancelAfterCloseAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
                throw new RpcException(new Status(StatusCode.NotFound,
                    $"symbol: no open position on {symbol}: it closed at the venue (a stop-loss, take-profit or liquidation) before this close's order arrived; nothing was sent to close it"));
            }

            order = await VenueOrders.EndedAsync(venue, order, ct).ConfigureAwait(false);
            if (order.ExecutedQty > 0m && order.ExecutedQty < Math.Abs(open.PositionAmt))
            {
                await PartialCloseAsync(symbol, open, record, deferred, order, clientOrderId, reason, ct).ConfigureAwait(false);
            }
        }

        if (order.ExecutedQty <= 0m)
        {
            throw Unfilled(clientOrderId, order);
        }

        Log.Closed(logger, symbol, order.ExecutedQty, order.AvgPrice, clientOrderId, reason);
        // A resumed close cancels only while the venue is flat: a position standing now was opened after this close
        // filled (one it left open would have been refused above), and its stop-loss and take-profit are its own.
        var ordersLeft = cancelOrders && (existing is null || open is null)
            ? await CancelAfterCloseAsync(symbol, clientOrderId, ct).ConfigureAwait(false)
            : null;
        if (deferred)
        {
            // A resumed close looks for the record it closed as the inline path does: not one opened after it, but the
            // one closed at or after its fill (its first attempt may have recorded the close); without that fallback it
            // logged a false "close-unrecorded" mismatch.
            var resumed = existing is not null;
            ledger.AfterQueuedWrites($"close {symbol} {clientOrderId}", symbol, async (later, ct) =>
            {
                var closedRecord = OpenedBefore(later, order)
                                   ?? (resumed ? await ledger.ClosedByRecordAsync(symbol, order, ct).ConfigureAwait(false) : null);
                await RecordClosedAsync(symbol, closedRecord, order, clientOrderId, reason, ct, stream: false).ConfigureAwait(false);
            });
        }

        if ((deferred || record is null) && existing is null)
        {
            // No record to stream the close from (its write waits behind queued ones, or the Ledger holds none): streamed
            // now from the venue's fill, and not again when the write lands (FillRecorder.Publish). A resumed close was
            // made by its first attempt: nothing changed at the venue now.
            fills.Publish(PositionUpdateKind.Closed, PositionMapping.FromFill(symbol, open!.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short,
                order.ExecutedQty, open.EntryPrice, order.AvgPrice, open.Leverage, open.MarginType, OpenedBefore(record, order)));
        }

        var closed = deferred ? null : await RecordClosedAsync(symbol, record, order, clientOrderId, reason, ct).ConfigureAwait(false);
        // A record whose close came back empty was queued: the Ledger did not take it within the inline budget.
        var queued = deferred || (record is not null && closed is null);
        return new ClosePositionResponse
        {
            Warnings = { queued ? [DeferredWarning] : [], ordersLeft is null ? [] : [ordersLeft] },
            PositionId = closed?.PositionId ?? record?.PositionId ?? string.Empty,
            Symbol = symbol,
            ExitPrice = Wire.Format(order.AvgPrice),
            Quantity = Wire.Format(order.ExecutedQty),
            RealizedPnl = closed?.RealizedPnl ?? string.Empty,
            Fees = closed?.Fees ?? string.Empty,
            Funding = closed?.Funding ?? string.Empty,
            Replayed = existing is not null,
            ClosedAt = Wire.Timestamp(order.UpdateTime),
        };
    }

    /// <summary>
    /// The symbol's open orders, its stop-loss and take-profit among them, cancelled once the close has filled: never
    /// before, so a close the venue refuses, fills in part or leaves unfilled (or whose outcome is unknown) leaves the
    /// position guarded as it was. A cancel that fails does not undo the close: the answer warns, and reconciliation
    /// cancels protective orders left on a symbol with no position. The close itself is reduce-only, so a stop-loss that
    /// triggers in between closes nothing more.
    /// </summary>
    private async Task<string?> CancelAfterCloseAsync(string symbol, string clientOrderId, CancellationToken ct) =>
        await protective.CancelAllAfterCloseAsync(symbol, clientOrderId, ct).ConfigureAwait(false) is { } failed
            ? $"orders: {symbol}'s open orders could not be cancelled after the close ({failed.Message}); reconciliation cancels the protective ones left on a symbol with no position"
            : null;

    /// <summary>
    /// A close the venue filled only in part (its reduce-only market order expired with the rest, as Binance does when
    /// the book or the position gave out): the part is recorded as the reduce it was, and the answer is ABORTED saying
    /// what is still open. It is never booked as a close of the whole position.
    /// </summary>
    private async Task PartialCloseAsync(
        string symbol, PositionRisk open, LedgerV1.PositionRecord? record, bool deferred, OrderInfo order, string clientOrderId, string reason,
        CancellationToken ct)
    {
        await RecordReduceAsync(symbol, record, deferred, order, clientOrderId, reason + " (close filled in part)", resumed: false, open, ct)
            .ConfigureAwait(false);

        var size = Math.Abs(open.PositionAmt);
        string holds;
        try
        {
            holds = Wire.Format(Math.Abs((await fills.OpenAtVenueAsync(symbol, ct).ConfigureAwait(false))?.PositionAmt ?? 0m));
        }
        catch (Binance.Errors.BinanceException)
        {
            holds = "an unknown size (its position could not be read)";
        }

        throw new CloseIncompleteException(new Status(StatusCode.Aborted,
            $"order: the venue filled {Wire.Format(order.ExecutedQty)} of the {Wire.Format(size)} {symbol} close {clientOrderId} (status {order.Status}); that part is recorded as a reduce, and the venue now holds {holds}. Close what is left with a new client_order_id"));
    }

    /// <summary>
    /// Whether the venue's open position is the one that stood when <paramref name="order"/> filled: the Ledger's record
    /// of it was opened before the order or, with no record to go by (the Ledger not answering), the venue has changed
    /// it at no time since.
    /// </summary>
    private static bool StoodBefore(PositionRisk open, LedgerV1.PositionRecord? record, OrderInfo order) =>
        record?.OpenedAt is { } opened ? opened.ToDateTimeOffset() <= order.UpdateTime : open.UpdateTime <= order.UpdateTime;

    private static CloseIncompleteException Unfilled(string clientOrderId, OrderInfo order, bool reduce = false) =>
        new(new Status(StatusCode.FailedPrecondition,
            $"order: the venue did not fill {(reduce ? "reduce" : "close")} {clientOrderId} (status {order.Status}); nothing was {(reduce ? "reduced" : "closed")}"));

    /// <summary>
    /// Records a reducing order against the record it reduced (one opened before it): now, or, when the Ledger did not
    /// answer the read (<paramref name="deferred"/>), behind the writes still queued. True when the write was queued.
    /// </summary>
    private async Task<bool> RecordReduceAsync(
        string symbol, LedgerV1.PositionRecord? record, bool deferred, OrderInfo order, string clientOrderId, string reason, bool resumed,
        PositionRisk? open, CancellationToken ct)
    {
        if (deferred)
        {
            // Streamed now, from the venue's fill (the record read may be stale or missing); not again when it lands.
            fills.Publish(PositionUpdateKind.Reduced, ReducedAtVenue(open, OpenedBefore(record, order), order, resumed));
            ledger.AfterQueuedWrites($"reduce {symbol} {clientOrderId}", symbol, async (later, ct2) =>
            {
                var reduced = OpenedBefore(later, order);
                // A resumed reduce whose position has closed since (the inline path answers it from its trades): booked
                // already when the Ledger holds its trades, and not a reduce the Ledger lacks.
                if (reduced is null && resumed && await BookedReduceAsync(symbol, order, ct2).ConfigureAwait(false) is not null)
                {
                    return;
                }

                await RecordReducedAsync(reduced, order, clientOrderId, reason, resumed, open, ct2, stream: false).ConfigureAwait(false);
            });
            return true;
        }

        return await RecordReducedAsync(OpenedBefore(record, order), order, clientOrderId, reason, resumed, open, ct).ConfigureAwait(false);
    }

    /// <summary>The record an order closed or reduced can only be one opened before that order filled.</summary>
    private static LedgerV1.PositionRecord? OpenedBefore(LedgerV1.PositionRecord? record, OrderInfo order) =>
        record?.OpenedAt is { } opened && opened.ToDateTimeOffset() > order.UpdateTime ? null : record;

    /// <summary>
    /// Records a venue close against the symbol's record; without one, logs that the Ledger had none. <paramref name="stream"/>:
    /// as <see cref="FillRecorder.RecordCloseAsync"/>'s.
    /// </summary>
    private async Task<LedgerV1.PositionRecord?> RecordClosedAsync(
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

    /// <summary>Reduces the position on <paramref name="symbol"/> by a fraction (rounded down to the step) or a quantity.</summary>
    public async Task<ReducePositionResponse> ReduceSymbolAsync(string symbol, string clientOrderId, decimal? fraction, decimal? quantity, string reason)
    {
        var stopping = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(symbol, stopping).ConfigureAwait(false);
        var info = await instruments.FindAsync(symbol, stopping).ConfigureAwait(false)
            ?? throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
        var (existing, open, record, deferred) = await ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
        // As a close's: once the venue has the order, what follows it (its end, its record) runs to the end.
        var ct = CancellationToken.None;
        OrderInfo order;
        if (existing is not null)
        {
            ExecutionWire.RequireSameOrder(existing, clientOrderId, side: null, reduceOnly: true, quantity);
            Log.Resuming(logger, symbol, clientOrderId, existing.Status.ToString());
            order = await VenueOrders.EndedAsync(venue, existing, ct).ConfigureAwait(false);
            existing = order;
            // Read again now the order is known filled: the read made alongside the lookup could predate a fill the
            // venue made late, and a resumed reduce is judged against this (FillRecorder.AlreadyBookedAsync).
            open = await fills.OpenAtVenueAsync(symbol, ct).ConfigureAwait(false);
            if (fraction is { } asked && !FractionCouldHavePlaced(existing, asked, info.Filters, open))
            {
                // A retry after a restart (the in-process half of idempotency is gone): the quantity is checked above,
                // a fraction only here, against the size the position had when the order was placed, where it is known.
                throw new RpcException(new Status(StatusCode.AlreadyExists,
                    $"client_order_id: '{clientOrderId}' is already used at the venue by a reduce of {Wire.Format(existing.OrigQty)} {symbol}, " +
                    $"which fraction {Wire.Format(asked)} of the position would not have given; use a new id"));
            }
        }
        else
        {
            if (open is not null && !deferred && record is not null && !SameAsVenue(record, open))
            {
                // The Ledger's record is not the venue's position (an add or a partial close made at the venue, not yet
                // reconciled). Booked against it, the reduce would be refused by the Ledger after its fill, or close the
                // record while the venue holds the rest. The symbol is repaired first, as the minute's pass would (under
                // this reduce's lock, each difference logged as a risk event), and read again; nothing is sent before.
                var repaired = await ReconcileBeforeOrderAsync("Reduce", symbol, record, open, stopping).ConfigureAwait(false);
                if (repaired)
                {
                    (_, open, record, deferred) = await ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
                }

                if (open is not null && (!repaired || deferred || record is null || !SameAsVenue(record, open)))
                {
                    throw new RpcException(new Status(StatusCode.Unavailable,
                        $"ledger: the Ledger's record of {symbol} differs from the venue's position and was not repaired yet; nothing was sent; retry with the same client order id"));
                }
            }

            if (open is null)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"symbol: no open position on {symbol}"));
            }

            var size = Math.Abs(open.PositionAmt);
            var amount = quantity ?? info.Filters.FloorToStep(size * fraction!.Value);
            var field = quantity is null ? "fraction" : "quantity";
            // Judged against the live position, not the request's form: FAILED_PRECONDITION (the same request may pass
            // against another size), where a malformed amount is INVALID_ARGUMENT.
            if (amount <= 0m)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"{field}: reduces less than one step ({Wire.Format(info.Filters.StepSize)}) of the {Wire.Format(size)} {symbol} position; nothing was sent"));
            }

            if (amount >= size)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"{field}: must leave part of the {Wire.Format(size)} {symbol} position (use ClosePosition to close it all); nothing was sent"));
            }

            if (amount % info.Filters.StepSize != 0m)
            {
                throw new RequestValidationException(field, $"must be on the symbol's step size {Wire.Format(info.Filters.StepSize)}");
            }

            var side = open.PositionAmt > 0 ? Domain.Side.Long : Domain.Side.Short;
            try
            {
                order = (await venue.PlaceOrderAsync(
                    new NewOrder(symbol, ExecutionWire.ClosingOrder(side), OrderType.Market, amount, ReduceOnly: true),
                    clientOrderId, stopping).ConfigureAwait(false)).Order;
            }
            catch (Binance.Errors.BinanceApiException ex) when (ex.Kind == Binance.Errors.BinanceErrorKind.ReduceOnlyRejected)
            {
                if (await fills.OpenAtVenueAsync(symbol, stopping).ConfigureAwait(false) is not null)
                {
                    throw;
                }

                // As a close's: the position closed at the venue between the read and the order, and there is nothing to
                // reduce. Answered as a reduce that came a moment later would be (before, the venue's -2022 refusal).
                throw new RpcException(new Status(StatusCode.NotFound,
                    $"symbol: no open position on {symbol}: it closed at the venue (a stop-loss, take-profit or liquidation) before this reduce's order arrived; nothing was sent to reduce it"));
            }

            order = await VenueOrders.EndedAsync(venue, order, ct).ConfigureAwait(false);
        }

        if (order.ExecutedQty <= 0m)
        {
            // Nothing reduced (the market order expired unfilled, or a resumed one still stands unfilled): nothing to
            // record, and no realized PnL of nothing (which the domain refuses, and which a queued write would retry
            // for ever at the head of the queue).
            throw Unfilled(clientOrderId, order, reduce: true);
        }

        Log.Reduced(logger, symbol, order.ExecutedQty, order.AvgPrice, clientOrderId, reason);
        var resumed = existing is not null;
        if (resumed && !deferred && OpenedBefore(record, order) is null
            && await BookedReduceAsync(symbol, order, ct).ConfigureAwait(false) is { } booked)
        {
            if (booked.Closed)
            {
                // The order under this id closed its position (a close's id given to a reduce, after a restart: the
                // in-process key space that refuses it is gone). It is not a reduce to replay.
                throw new RpcException(new Status(StatusCode.AlreadyExists,
                    $"client_order_id: '{clientOrderId}' is the close of position {booked.PositionId} ({Wire.Format(order.ExecutedQty)} {symbol}); a reduce needs a client_order_id of its own"));
            }

            // A retry of a reduce booked before its position closed (or before another opened on the symbol): the record
            // it reduced is no longer the open one, and its trades say which it was and what it realized.
            return new ReducePositionResponse
            {
                PositionId = booked.PositionId,
                Symbol = symbol,
                ReducedQuantity = Wire.Format(order.ExecutedQty),
                RemainingQuantity = Wire.Format(Math.Abs(open?.PositionAmt ?? 0m)),
                FillPrice = Wire.Format(order.AvgPrice),
                RealizedPnl = Wire.Format(booked.RealizedPnl),
                Replayed = true,
            };
        }

        var queued = await RecordReduceAsync(symbol, record, deferred, order, clientOrderId, reason, resumed, open, ct).ConfigureAwait(false);
        // A record opened after the order (its position was closed and another opened since) is not the one it reduced.
        record = OpenedBefore(record, order);

        var venueSize = Math.Abs(open?.PositionAmt ?? 0m);
        var remaining = existing is not null ? venueSize : venueSize - order.ExecutedQty;
        var response = new ReducePositionResponse
        {
            PositionId = record?.PositionId ?? string.Empty,
            Symbol = symbol,
            ReducedQuantity = Wire.Format(order.ExecutedQty),
            RemainingQuantity = Wire.Format(remaining),
            FillPrice = Wire.Format(order.AvgPrice),
            // Empty when it is not known: recorded in the background, or no record to reduce (the PnL is of the entry the
            // record would hold; before, "0" was answered for a reduce that realized a gain or a loss).
            RealizedPnl = deferred || record is null ? string.Empty : Wire.Format(LedgerBook.RealizedPnl(record, order)),
            Replayed = existing is not null,
            Warnings = { queued ? [DeferredWarning] : [] },
        };
        if (!deferred && record is null)
        {
            response.Warnings.Add(UnrecordedReduceWarning);
        }

        return response;
    }

    /// <summary>
    /// The record a reduce-only order was booked against and the PnL it realized, from the Ledger's trades of the order;
    /// null when the Ledger holds none of them (it was never booked). <c>Closed</c>: the order closed that record (the
    /// record is closed, and at the order's time: a close is dated at its order's last update, as a reduce is).
    /// </summary>
    private async Task<(string PositionId, decimal RealizedPnl, bool Closed)?> BookedReduceAsync(string symbol, OrderInfo order, CancellationToken ct)
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
    /// the size before it, floored to the step as <see cref="ReduceSymbolAsync"/> does, equals its quantity. The size
    /// before is known only while the venue's position has not changed since the order filled (its update time is not
    /// later than the order's): then it is the position now plus what the order filled. After any later change (an add,
    /// another reduce) the size before cannot be told, and the retry is taken as one, as before: refusing an honest
    /// retry would send its caller to a new id and a second reduce.
    /// </summary>
    private static bool FractionCouldHavePlaced(OrderInfo existing, decimal fraction, Domain.Instruments.SymbolFilters filters, PositionRisk? open)
    {
        if (open is null || open.UpdateTime > existing.UpdateTime)
        {
            return true;
        }

        return filters.FloorToStep((Math.Abs(open.PositionAmt) + existing.ExecutedQty) * fraction) == existing.OrigQty;
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

    private async Task<string> RequireSymbolAsync(string symbol, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(symbol))
        {
            throw new RequestValidationException("symbol", "is required");
        }

        if (!Domain.Symbol.TryParse(symbol, out _))
        {
            throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
        }

        return (await instruments.FindAsync(symbol, cancellationToken).ConfigureAwait(false))?.Symbol.Value
            ?? throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
    }

    /// <summary>
    /// What a close or reduce starts from, read together: an order already placed under this client order id (a
    /// resumed call), the venue's open position on the symbol, and the Ledger's open record of it.
    /// </summary>
    /// <remarks>
    /// A Ledger that does not answer does not stop a close or reduce: the venue acts, and the recording waits in the
    /// background queue (<c>Deferred</c>) behind any write still queued, so it lands after the position's own record.
    /// </remarks>
    private async Task<(OrderInfo? Existing, PositionRisk? Open, LedgerV1.PositionRecord? Record, bool Deferred)> ReadSymbolAsync(
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
    /// Reconciles <paramref name="symbol"/> now, under the lock its close or reduce holds, because the Ledger's record
    /// differs from the venue's position. False when the repair failed (logged): the caller decides whether to go on.
    /// </summary>
    private async Task<bool> ReconcileBeforeOrderAsync(
        string action, string symbol, LedgerV1.PositionRecord record, PositionRisk open, CancellationToken ct)
    {
        Log.ReconcilingBefore(logger, action, symbol, record.Quantity, open.PositionAmt);
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
    private static bool SameAsVenue(LedgerV1.PositionRecord record, PositionRisk open) =>
        record.Side == ExecutionWire.SideOfSize(open.PositionAmt) && Wire.Decimal(record.Quantity, "quantity") == Math.Abs(open.PositionAmt);

    private const string UnrecordedReduceWarning =
        "ledger: the Ledger has no open record of this position (opened outside Execution, or not yet adopted by reconciliation); the reduce is not booked and its realized PnL is not known here";

    private const string DeferredWarning =
        "ledger: the Ledger could not take this at once (it is not answering, or earlier writes still wait for it); it is recorded in the background and will land";
}
