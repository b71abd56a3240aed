using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
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
/// <remarks>
/// What a call starts from and resumes against is <see cref="CloseLookup"/>'s; the Ledger writes after the venue's fill are
/// <see cref="CloseRecorder"/>'s. The reduce is in ClosePositionHandler.Reduce.cs.
/// </remarks>
public sealed partial class ClosePositionHandler(
    IBinanceClient venue,
    InstrumentDirectory instruments,
    RequestDeduplicator deduplicator,
    SymbolLocks locks,
    ProtectiveOrders protective,
    LedgerBook ledger,
    FillRecorder fills,
    CloseLookup lookup,
    CloseRecorder recorder,
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

    /// <summary>Closes the whole position on <paramref name="symbol"/> with a reduce-only market order keyed by <paramref name="clientOrderId"/>.</summary>
    /// <param name="cancelOrders">
    /// Whether the symbol's open orders are cancelled once the close has filled (<see cref="CancelAfterCloseAsync"/>).
    /// Close-all cancels them itself once the position is flat, orders of a symbol with no position too.
    /// </param>
    public async Task<ClosePositionResponse> CloseSymbolAsync(string symbol, string clientOrderId, string reason, bool cancelOrders = true)
    {
        var stopping = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(symbol, stopping).ConfigureAwait(false);
        var (existing, open, record, deferred) = await lookup.ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
        // Once the venue has the order (found under this id, or placed below), waiting for it to end, the cancels after it
        // and its record are not cut short by the service stopping, which waits for this call, as after an open's fill.
        // Cut short, the close was never recorded, and reconciliation later booked it as a close at the venue.
        var ct = CancellationToken.None;
        OrderInfo order;
        if (existing is not null)
        {
            ExecutionWire.RequireSameOrder(existing, clientOrderId, side: null, reduceOnly: true, quantity: null);
            existing = await VenueOrders.EndedAsync(venue, existing, ct).ConfigureAwait(false);
            // An order that ended unfilled needs nothing else read (a close-all walking spent ids meets one per id).
            if (existing.ExecutedQty <= 0m)
            {
                throw Unfilled(clientOrderId, existing, earlier: true);
            }

            // Read again now the order has ended, as a resumed reduce does: the position read beside the look-up could
            // predate the order's fills, and judged against it a close that filled would read as one that left the
            // position standing.
            open = await fills.OpenAtVenueAsync(symbol, ct).ConfigureAwait(false);

            if (open is not null && CloseLookup.StoodBefore(open, record, existing))
            {
                // The position that stood when this order filled is still open: the order was not its close (an earlier
                // reduce's id given again, or a close the venue filled in part). Taking it as the close would book a
                // close the venue never made; what it did fill is booked as the reduce it was (once: a reduce already
                // booked is found).
                await recorder.RecordReduceAsync(symbol, record, deferred, existing, clientOrderId, reason + " (close filled in part)", resumed: true, open, ct)
                    .ConfigureAwait(false);
                throw new CloseIncompleteException(new Status(StatusCode.AlreadyExists,
                    $"client_order_id: {clientOrderId} is order {existing.OrderId} ({Wire.Format(existing.ExecutedQty)} {symbol}), which did not close the position still open ({Wire.Format(open.PositionAmt)}); a close needs a client_order_id of its own"),
                    earlier: true);
            }

            Log.Resuming(logger, symbol, clientOrderId, existing.Status.ToString());
            order = existing;
            if (!deferred)
            {
                // The record this order closed: not one opened after it (a position opened since its close), but the
                // last one closed, at or after the order's fill.
                record = CloseLookup.OpenedBefore(record, order) ?? await ledger.ClosedByRecordAsync(symbol, order, ct).ConfigureAwait(false);
            }
        }
        else
        {
            if (open is not null && !deferred && record is not null && !CloseLookup.SameAsVenue(record, open))
            {
                // As a reduce's: the record is repaired first, so the close books the venue's whole position (an add made
                // at the venue with its fills) and not the record's part of it. A close is not held back for that: when
                // the repair fails, the position is closed all the same and the minute's pass books the rest.
                await lookup.ReconcileBeforeOrderAsync("Close", symbol, record, open, stopping).ConfigureAwait(false);
                (_, open, record, deferred) = await lookup.ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
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
                var closedRecord = CloseLookup.OpenedBefore(later, order)
                                   ?? (resumed ? await ledger.ClosedByRecordAsync(symbol, order, ct).ConfigureAwait(false) : null);
                await recorder.RecordClosedAsync(symbol, closedRecord, order, clientOrderId, reason, ct, stream: false).ConfigureAwait(false);
            });
        }

        if ((deferred || record is null) && existing is null)
        {
            // No record to stream the close from (its write waits behind queued ones, or the Ledger holds none): streamed
            // now from the venue's fill, and not again when the write lands (FillRecorder.Publish). A resumed close was
            // made by its first attempt: nothing changed at the venue now.
            fills.Publish(PositionUpdateKind.Closed, PositionMapping.FromFill(symbol, open!.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short,
                order.ExecutedQty, open.EntryPrice, order.AvgPrice, open.Leverage, open.MarginType, CloseLookup.OpenedBefore(record, order)));
        }

        var closed = deferred ? null : await recorder.RecordClosedAsync(symbol, record, order, clientOrderId, reason, ct).ConfigureAwait(false);
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
        await recorder.RecordReduceAsync(symbol, record, deferred, order, clientOrderId, reason + " (close filled in part)", resumed: false, open, ct)
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

    private static CloseIncompleteException Unfilled(string clientOrderId, OrderInfo order, bool reduce = false, bool earlier = false) =>
        new(new Status(StatusCode.FailedPrecondition,
            $"order: the venue did not fill {(reduce ? "reduce" : "close")} {clientOrderId} (status {order.Status}); nothing was {(reduce ? "reduced" : "closed")}"),
            earlier);

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

    private const string DeferredWarning =
        "ledger: the Ledger could not take this at once (it is not answering, or earlier writes still wait for it); it is recorded in the background and will land";
}
