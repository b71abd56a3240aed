using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

// ClosePositionHandler's reduce: by a fraction or a quantity, keyed by the client order id as a close is.
public sealed partial class ClosePositionHandler
{
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

    /// <summary>Reduces the position on <paramref name="symbol"/> by a fraction (rounded down to the step) or a quantity.</summary>
    public async Task<ReducePositionResponse> ReduceSymbolAsync(string symbol, string clientOrderId, decimal? fraction, decimal? quantity, string reason)
    {
        var stopping = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(symbol, stopping).ConfigureAwait(false);
        var info = await instruments.FindAsync(symbol, stopping).ConfigureAwait(false)
            ?? throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
        var (existing, open, record, deferred) = await lookup.ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
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
            if (fraction is { } asked && !CloseLookup.FractionCouldHavePlaced(existing, asked, info.Filters, open))
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
            if (open is not null && !deferred && record is not null && !CloseLookup.SameAsVenue(record, open))
            {
                // The Ledger's record is not the venue's position (an add or a partial close made at the venue, not yet
                // reconciled). Booked against it, the reduce would be refused by the Ledger after its fill, or close the
                // record while the venue holds the rest. The symbol is repaired first, as the minute's pass would (under
                // this reduce's lock, each difference logged as a risk event), and read again; nothing is sent before.
                var repaired = await lookup.ReconcileBeforeOrderAsync("Reduce", symbol, record, open, stopping).ConfigureAwait(false);
                if (repaired)
                {
                    (_, open, record, deferred) = await lookup.ReadSymbolAsync(symbol, clientOrderId, stopping).ConfigureAwait(false);
                }

                if (open is not null && (!repaired || deferred || record is null || !CloseLookup.SameAsVenue(record, open)))
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

            if ((amount - info.Filters.MinQty) % info.Filters.StepSize != 0m)
            {
                throw new RequestValidationException(field, $"must be on the symbol's step size {Wire.Format(info.Filters.StepSize)}");
            }

            // MARKET_LOT_SIZE binds a reduce-only market order as any other: the venue would refuse it (-4004 below,
            // -4005 above). A quantity outside it is the request's fault (INVALID_ARGUMENT); a fraction's amount depends
            // on the position (FAILED_PRECONDITION).
            if (amount < info.Filters.MarketMinQty || amount > info.Filters.MarketMaxQty)
            {
                var limits = $"must be from {Wire.Format(info.Filters.MarketMinQty)} to {Wire.Format(info.Filters.MarketMaxQty)} (the symbol's market order limits)";
                if (quantity is not null)
                {
                    throw new RequestValidationException(field, limits);
                }

                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"{field}: reduces {Wire.Format(amount)} of the {Wire.Format(size)} {symbol} position, and a market order's quantity {limits}; nothing was sent"));
            }

            // What is left must be closable: below the market minimum (a symbol whose minimum is above its step), no market
            // order could close it, and a close or the kill switch's flatten would be refused for it.
            if (size - amount < info.Filters.MarketMinQty)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"{field}: reduces {Wire.Format(amount)} of the {Wire.Format(size)} {symbol} position and leaves {Wire.Format(size - amount)}, below the symbol's market order minimum {Wire.Format(info.Filters.MarketMinQty)}, which no market order could close; reduce less, or use ClosePosition; nothing was sent"));
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
        if (resumed && !deferred && CloseLookup.OpenedBefore(record, order) is null
            && await lookup.BookedReduceAsync(symbol, order, ct).ConfigureAwait(false) is { } booked)
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

        var queued = await recorder.RecordReduceAsync(symbol, record, deferred, order, clientOrderId, reason, resumed, open, ct).ConfigureAwait(false);
        // A record opened after the order (its position was closed and another opened since) is not the one it reduced.
        record = CloseLookup.OpenedBefore(record, order);

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

    private const string UnrecordedReduceWarning =
        "ledger: the Ledger has no open record of this position (opened outside Execution, or not yet adopted by reconciliation); the reduce is not booked and its realized PnL is not known here";
}
