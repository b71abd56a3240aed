using System.Globalization;
using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Compares the venue's positions and open conditional orders with the Ledger's open records, symbol by symbol
/// under the symbol's lock (so no open or close is half-way), and repairs every difference: a position the Ledger
/// lacks is adopted, a record the venue no longer has is closed, a leverage changed at the venue is amended, a size
/// difference is booked, a missing protective order is restored, and an orphaned one is cancelled. Every difference is
/// logged as a risk event.
/// </summary>
public sealed class Reconciler(
    IBinanceClient venue,
    LedgerBook ledger,
    LedgerWrites writes,
    SymbolLocks locks,
    ProtectiveOrders protective,
    FillRecorder fills,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>The strategy of a record the reconciliation adopted from the venue, without the fills that built it.</summary>
    public const string AdoptedStrategy = "reconciled";

    /// <summary>The strategy of a record the reconciliation adopted from the venue with the venue's fills that built it.</summary>
    public const string AdoptedWithFillsStrategy = "reconciled-with-fills";

    private const string EventType = "reconciliation_mismatch";

    /// <summary>One pass; returns how many differences it found (and repaired). Throws when it could not finish.</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        // A fill whose Ledger write waits in the background queue is known to the venue and not yet to the Ledger:
        // comparing now would adopt it and the queued write would then record it a second time. Wait for the queue.
        if (writes.Backlog > 0)
        {
            throw new InvalidOperationException(
                $"{writes.Backlog} Ledger write(s) after fills are still queued; the venue and the Ledger are compared once they land");
        }

        var positionsTask = venue.GetPositionsAsync(null, cancellationToken);
        var recordsTask = ledger.OpenRecordsAsync(cancellationToken);
        var conditionalTask = venue.GetOpenConditionalOrdersAsync(null, cancellationToken);
        var symbols = (await positionsTask.ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).Select(p => p.Symbol)
            .Concat((await recordsTask.ConfigureAwait(false)).Select(r => r.Symbol))
            .Concat((await conditionalTask.ConfigureAwait(false)).Select(o => o.Symbol))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        var mismatches = 0;
        List<Exception>? failures = null;
        foreach (var symbol in symbols)
        {
            try
            {
                using var held = await locks.AcquireAsync(symbol, cancellationToken).ConfigureAwait(false);
                mismatches += await ReconcileSymbolAsync(symbol, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RepairFailed(logger, ex, symbol);
                (failures ??= []).Add(ex);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("Reconciliation could not repair every symbol", failures);
        }

        Log.Reconciled(logger, mismatches);
        return mismatches;
    }

    /// <summary>
    /// One symbol's repair now, for a caller that already holds its lock (<see cref="SymbolLocks"/>): a reduce that found
    /// the Ledger's record differing from the venue's position. The same repair a pass makes, with its risk events.
    /// Throws when a Ledger write is still queued (the difference may be that write) or a repair fails.
    /// </summary>
    public Task<int> ReconcileHeldSymbolAsync(string symbol, CancellationToken ct) => ReconcileSymbolAsync(symbol, ct);

    private async Task<int> ReconcileSymbolAsync(string symbol, CancellationToken ct)
    {
        // Checked again under the symbol's lock: a write queued since the pass began would be adopted, then land too.
        if (writes.Backlog > 0)
        {
            throw new InvalidOperationException($"{writes.Backlog} Ledger write(s) are queued; {symbol} is compared once they land");
        }

        var positionsTask = venue.GetPositionsAsync(symbol, ct);
        var conditionalTask = venue.GetOpenConditionalOrdersAsync(symbol, ct);
        var recordTask = ledger.OpenRecordAsync(symbol, ct);
        var open = (await positionsTask.ConfigureAwait(false)).FirstOrDefault(p => p.PositionAmt != 0m);
        var conditional = await conditionalTask.ConfigureAwait(false);
        var record = await recordTask.ConfigureAwait(false);
        var stamp = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var mismatches = 0;

        if (record is not null && open is null && await VenueCloseAsync(symbol, record, ct).ConfigureAwait(false) is { } venueClose)
        {
            // The venue closed it with its own order (a stop-loss or take-profit that triggered, a liquidation): record
            // that close as it happened, with its fills, fees and realized PnL, not at today's mark.
            mismatches++;
            var (order, closeFills, liquidation) = venueClose;
            // The venue's liquidation engine closing it is recorded as liquidated (the Ledger's status and the
            // PositionClosed event say so), and reported as critical, not as an ordinary close.
            var what = liquidation is null ? "closed it by its own order(s)" : $"liquidated it (order {liquidation})";
            // A liquidation's critical event is keyed by its order, not by the pass: should the Ledger refuse the close,
            // the passes that follow do not raise it again.
            await ReportAsync(liquidation is null ? "closed-at-venue" : "liquidated-at-venue", symbol,
                $"the Ledger's open {record.Side} record {record.PositionId}: the venue {what} at {Wire.Format(order.AvgPrice)}; recorded{(liquidation is null ? "" : " as liquidated")} with its {closeFills.Trades.Count} fill(s)",
                liquidation ?? stamp, ct, liquidation is null ? LedgerV1.RiskEventSeverity.Warning : LedgerV1.RiskEventSeverity.Critical).ConfigureAwait(false);

            var closed = await ledger.CloseByOrderAsync(record, order, closeFills,
                liquidation is null ? "venue: closed by its own order (a stop-loss, take-profit, ADL or a close made at the venue)" : $"venue: liquidated (order {liquidation})",
                "reconcile-venue-close:" + record.PositionId, ct, liquidated: liquidation is not null).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Closed, closed ?? record, order.AvgPrice);
            record = null;
        }
        else if (record is not null && (open is null || ExecutionWire.SideOfSize(open.PositionAmt) != record.Side))
        {
            mismatches++;
            var price = open?.MarkPrice ?? (await venue.GetTickerPriceAsync(symbol, ct).ConfigureAwait(false)).Price;
            // Dated on the venue's clock, like every fill and change the Ledger holds for the record: the Ledger refuses a
            // close dated before the record's last change, and this host's clock may run behind the venue's.
            var closedAt = await venue.GetServerTimeAsync(ct).ConfigureAwait(false);
            if (record.OpenedAt?.ToDateTimeOffset() is { } opened && opened > closedAt)
            {
                closedAt = opened;
            }

            await ReportAsync("close-record", symbol, $"the Ledger's open {record.Side} record {record.PositionId} has no position at the venue; closed at {Wire.Format(price)}", stamp, ct)
                .ConfigureAwait(false);
            var closed = await ledger.CloseAsync(new LedgerV1.ClosePositionRequest
            {
                IdempotencyKey = "reconcile-close:" + record.PositionId,
                PositionId = record.PositionId,
                ExitPrice = Wire.Format(price),
                Fee = "0",
                ClosedAt = Wire.Timestamp(closedAt),
                ExitReason = "reconciliation: the venue no longer has this position",
            }, ct).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Closed, closed ?? record, price);
            record = null;
        }

        if (open is not null && record is null)
        {
            mismatches++;
            record = await AdoptAsync(symbol, open, conditional, stamp, ct).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Opened, record, open.MarkPrice);
        }
        else if (open is not null && record is not null)
        {
            mismatches += await BookSizeDifferenceAsync(symbol, open, record, stamp, ct).ConfigureAwait(false);
            mismatches += await RestoreProtectionAsync(symbol, open, record, conditional, stamp, ct).ConfigureAwait(false);
            // Last: the record's leverage is bookkeeping, and its repair failing must not keep a stop-loss from being restored.
            mismatches += await AmendLeverageAsync(symbol, open, record, stamp, ct).ConfigureAwait(false);
        }

        // Only protective orders are orphans (closePosition or reduce-only: a stop-loss or take-profit of a position gone,
        // which would close the next position opened on the symbol). An order that opens (an entry stop or a resting
        // limit order placed by hand) is the operator's, and stays.
        var orphans = open is null ? conditional.Where(o => o.ClosePosition || o.ReduceOnly).ToList() : [];
        if (orphans.Count > 0)
        {
            mismatches++;
            // Every one is tried, and the report says what went; a refusal fails the symbol's pass, and the next tries again.
            var (cancelled, failures) = await protective.CancelEachAsync(orphans, ct).ConfigureAwait(false);
            await ReportAsync("orphan-orders", symbol,
                $"{orphans.Count} protective order(s) at the venue with no position; {(failures.Count == 0 ? "cancelled" : $"{cancelled.Count} cancelled, {failures.Count} refused")}",
                stamp, ct).ConfigureAwait(false);
            if (failures.Count > 0)
            {
                throw new AggregateException($"{failures.Count} protective order(s) of {symbol} could not be cancelled", failures);
            }
        }

        return mismatches;
    }

    /// <summary>
    /// The venue applies a symbol's leverage to its whole position, so its figure is the truth: a record holding another
    /// (a leverage changed at the venue by an operator, or a SetLeverage whose amend was refused or lost with a restart) is
    /// amended to it. Keyed by the pass, as the risk event is: a leverage changed back and forth between the same figures
    /// is a new amend each time, never a replay of an old one. A figure outside 1..125 (none a venue applies, and the Ledger
    /// would refuse it) is left alone.
    /// </summary>
    private async Task<int> AmendLeverageAsync(string symbol, PositionRisk open, LedgerV1.PositionRecord record, string stamp, CancellationToken ct)
    {
        if (open.Leverage == record.Leverage || open.Leverage is < Domain.Leverage.Min or > Domain.Leverage.Max)
        {
            return 0;
        }

        await ReportAsync("leverage", symbol,
            $"the venue applies {open.Leverage}x to the position, the Ledger's record {record.PositionId} holds {record.Leverage}x; the record is amended to {open.Leverage}x",
            stamp, ct).ConfigureAwait(false);
        try
        {
            await ledger.AmendLeverageAsync($"reconcile-leverage:{record.PositionId}:{record.Leverage}:{open.Leverage}:{stamp}", record, open.Leverage, ct)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (!LedgerWrites.IsTransient(ex) && !ct.IsCancellationRequested)
        {
            // Refused for good (a Ledger older than AmendPosition answers UNIMPLEMENTED during a rolling upgrade): logged,
            // and the symbol's pass counts as done, so reconciliation (and the opens waiting on its first pass) goes on.
            Log.LeverageNotRecorded(logger, ex, symbol, open.Leverage, ex.StatusCode);
        }

        return 1;
    }

    /// <summary>
    /// Adopts a venue position the Ledger lacks (an open whose Ledger write was lost with a crash, or a position opened
    /// by hand). It is recorded with the venue's fills that built it, so their trade ids, fees and times are not lost
    /// (<see cref="LatestVenueFillsAsync"/>); when the fills do not account for the position, or the Ledger already
    /// holds one of them, it is adopted at the venue's entry without fills, and the risk event says so.
    /// </summary>
    private async Task<LedgerV1.PositionRecord?> AdoptAsync(
        string symbol, PositionRisk open, IReadOnlyList<ConditionalOrderInfo> conditional, string stamp, CancellationToken ct)
    {
        var request = new LedgerV1.OpenPositionRequest
        {
            IdempotencyKey = "adopt:" + symbol + ":" + open.UpdateTime.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
                + ":" + Wire.Format(open.PositionAmt),
            Symbol = symbol,
            Side = ExecutionWire.SideOfSize(open.PositionAmt),
            Quantity = Wire.Format(Math.Abs(open.PositionAmt)),
            EntryPrice = Wire.Format(open.EntryPrice),
            Leverage = open.Leverage,
            MarginType = ExecutionWire.MarginType(open.MarginType),
            Fee = "0",
            Strategy = AdoptedStrategy,
            OpenedAt = Wire.Timestamp(open.UpdateTime),
            StopLossPrice = ProtectivePrice(conditional, open, ConditionalOrderType.StopMarket),
            TakeProfitPrice = ProtectivePrice(conditional, open, ConditionalOrderType.TakeProfitMarket),
        };

        var opening = open.PositionAmt > 0m ? OrderSide.Buy : OrderSide.Sell;
        if (await LatestVenueFillsAsync(symbol, opening, Math.Abs(open.PositionAmt), since: null, ct).ConfigureAwait(false) is { } fills)
        {
            // A key of its own: should the Ledger refuse it, the adoption without fills below is a different request
            // under a different key, never a reuse of this one with another payload (which would be refused as well).
            var withFills = request.Clone();
            withFills.IdempotencyKey = "adopt-fills:" + request.IdempotencyKey["adopt:".Length..];
            withFills.Fills.Add(fills);
            withFills.Fee = Wire.Format(fills.Sum(f => Wire.Decimal(f.Fee, "fee")));
            withFills.Strategy = AdoptedWithFillsStrategy;
            LedgerV1.PositionRecord? adopted = null;
            var refused = false;
            try
            {
                adopted = await ledger.OpenAsync(withFills, ct).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument)
            {
                // A fill the Ledger already holds (under an earlier record: those fills did not build this position
                // alone), or one it cannot take as it is. Nothing was written; adopt it without fills rather than fail
                // every pass (and keep opening closed).
                Log.AdoptedWithoutFills(logger, ex, symbol);
                refused = true;
            }

            if (!refused)
            {
                await ReportAsync("adopt", symbol,
                    $"the venue holds {Wire.Format(open.PositionAmt)} that the Ledger lacks; adopted at entry {Wire.Format(open.EntryPrice)} with its {fills.Count} fill(s) from the venue", stamp, ct)
                    .ConfigureAwait(false);
                return adopted;
            }
        }

        var adoptedBare = await ledger.OpenAsync(request, ct).ConfigureAwait(false);
        await ReportAsync("adopt", symbol,
            $"the venue holds {Wire.Format(open.PositionAmt)} that the Ledger lacks; adopted at entry {Wire.Format(open.EntryPrice)} without fills (the venue's fills do not account for it alone)", stamp, ct)
            .ConfigureAwait(false);
        return adoptedBare;
    }

    /// <summary>
    /// The venue's latest fills on <paramref name="symbol"/>, all on <paramref name="side"/>, that add up exactly to
    /// <paramref name="quantity"/> (see <see cref="LatestFillsMaking"/>), read back from <paramref name="since"/> within
    /// the venue's 7-day window, each with its order's client id: the fills that built an adopted position, or that made
    /// a size difference. Null when they do not add up (a position built and then partly reduced, say), or are more than
    /// the window or one Ledger request holds.
    /// </summary>
    private async Task<IReadOnlyList<LedgerV1.Fill>?> LatestVenueFillsAsync(
        string symbol, OrderSide side, decimal quantity, DateTimeOffset? since, CancellationToken ct)
    {
        const int Limit = 1000;
        // The venue's 7-day window on the venue's clock (this host's may run behind it).
        var earliest = await venue.GetServerTimeAsync(ct).ConfigureAwait(false) - TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1);
        var start = since is { } s && s > earliest ? s : earliest;
        var trades = await venue.GetUserTradesAsync(new UserTradesQuery(symbol, StartTime: start, Limit: Limit), ct).ConfigureAwait(false);
        if (trades.Count >= Limit)
        {
            return null;
        }

        if (LatestFillsMaking(trades, side, quantity) is not { } picked || picked.Count > LedgerBook.MaxFillsPerRequest)
        {
            return null;
        }

        var clientIds = new Dictionary<long, string>();
        foreach (var orderId in picked.Select(t => t.OrderId).Distinct())
        {
            var order = await venue.GetOrderByIdAsync(symbol, orderId, ct).ConfigureAwait(false);
            clientIds[orderId] = order?.ClientOrderId ?? "venue-" + orderId.ToString(CultureInfo.InvariantCulture);
            // An order the Ledger already holds trades of is booked already (a trade per fill, or one per order when its
            // fills could not be listed, which the trade-id check alone would not catch): these fills are not the
            // missing ones.
            if ((await ledger.OrderTradesAsync(symbol, clientIds[orderId], ct).ConfigureAwait(false)).Count > 0)
            {
                return null;
            }
        }

        return picked.Select(t => new LedgerV1.Fill
        {
            ClientOrderId = clientIds[t.OrderId],
            ExchangeTradeId = t.Id.ToString(CultureInfo.InvariantCulture),
            ExchangeOrderId = t.OrderId.ToString(CultureInfo.InvariantCulture),
            Price = Wire.Format(t.Price),
            Quantity = Wire.Format(t.Qty),
            Fee = Wire.Format(t.Commission),
            ExecutedAt = Wire.Timestamp(t.Time),
        }).ToList();
    }

    /// <summary>
    /// Books a difference between the venue's size and the record's (a reduce or an add whose Ledger write was lost with
    /// a crash, or one made by hand). It is recorded with the venue's fills that made it, the latest fills on its side
    /// adding up exactly to the difference (<see cref="LatestVenueFillsAsync"/>), at their volume-weighted price and with
    /// their fees, trade ids and client ids. When they do not account for it, or the Ledger refuses them (it holds one
    /// already, or they predate the record's last change), it is booked at the mark without fills, and the risk event
    /// says which.
    /// </summary>
    private async Task<int> BookSizeDifferenceAsync(string symbol, PositionRisk open, LedgerV1.PositionRecord record, string stamp, CancellationToken ct)
    {
        var venueSize = Math.Abs(open.PositionAmt);
        var recorded = Wire.Decimal(record.Quantity, "quantity");
        if (venueSize == recorded)
        {
            return 0;
        }

        var difference = venueSize - recorded;
        // With the venue's time of the change: the same sizes may differ again later (2 to 1.5, back to 2, to 1.5 again),
        // and a key reused with another payload would be refused on every pass.
        var key = record.PositionId + ":" + Wire.Format(recorded) + ":" + Wire.Format(venueSize) + ":"
            + open.UpdateTime.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var added = difference > 0m;
        var side = (record.Side == Common.V1.Side.Long) == added ? OrderSide.Buy : OrderSide.Sell;
        if (await LatestVenueFillsAsync(symbol, side, Math.Abs(difference), record.OpenedAt?.ToDateTimeOffset(), ct).ConfigureAwait(false) is { } fills)
        {
            var price = VolumeWeighted(fills.Select(f => (Wire.Decimal(f.Price, "price"), Wire.Decimal(f.Quantity, "quantity"))));
            var fee = fills.Sum(f => Wire.Decimal(f.Fee, "fee"));
            try
            {
                // A key of its own, as the adoption's: the booking at the mark below is then never a reused key.
                await BookSizeAsync(record, open, added, "reconcile-size-fills:" + key, Math.Abs(difference), price, fee, fills[^1].ExecutedAt, fills, ct)
                    .ConfigureAwait(false);
                await ReportAsync("size", symbol,
                    $"the venue holds {Wire.Format(venueSize)}, the Ledger {Wire.Format(recorded)}; booked the difference at {Wire.Format(price)} with its {fills.Count} fill(s) from the venue", stamp, ct)
                    .ConfigureAwait(false);
                return 1;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
            {
                // Nothing was written: book it at the mark rather than fail every pass.
                Log.SizeBookedWithoutFills(logger, ex, symbol);
            }
        }

        // Dated at the venue's last change of the position, on the venue's clock like every fill the Ledger holds: the
        // Ledger refuses a change dated before the position's last one, and this host's clock may run behind the venue's.
        var at = open.UpdateTime > DateTimeOffset.UnixEpoch ? open.UpdateTime : time.GetUtcNow();
        await BookSizeAsync(record, open, added, "reconcile-size:" + key, Math.Abs(difference), open.MarkPrice, 0m, Wire.Timestamp(at), [], ct)
            .ConfigureAwait(false);
        await ReportAsync("size", symbol,
            $"the venue holds {Wire.Format(venueSize)}, the Ledger {Wire.Format(recorded)}; booked the difference at mark {Wire.Format(open.MarkPrice)} without fills (the venue's latest fills do not account for it alone)", stamp, ct)
            .ConfigureAwait(false);
        return 1;
    }

    /// <summary>Adds <paramref name="quantity"/> to the record (the venue holds more) or reduces it by that (less).</summary>
    private async Task BookSizeAsync(
        LedgerV1.PositionRecord record, PositionRisk open, bool added, string key, decimal quantity, decimal price, decimal fee,
        Google.Protobuf.WellKnownTypes.Timestamp at, IReadOnlyList<LedgerV1.Fill> venueFills, CancellationToken ct)
    {
        if (added)
        {
            var grown = await ledger.OpenAsync(new LedgerV1.OpenPositionRequest
            {
                IdempotencyKey = key,
                Symbol = record.Symbol,
                Side = record.Side,
                Quantity = Wire.Format(quantity),
                EntryPrice = Wire.Format(price),
                Leverage = open.Leverage,
                MarginType = ExecutionWire.MarginType(open.MarginType),
                Fee = Wire.Format(fee),
                Strategy = record.Strategy,
                OpenedAt = at,
                Fills = { venueFills },
            }, ct).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Changed, grown, open.MarkPrice);
            return;
        }

        var reduced = await ledger.ReduceAsync(new LedgerV1.ReducePositionRequest
        {
            IdempotencyKey = key,
            PositionId = record.PositionId,
            Quantity = Wire.Format(quantity),
            ExitPrice = Wire.Format(price),
            Fee = Wire.Format(fee),
            ReducedAt = at,
            Reason = "reconciliation: the venue holds less",
            Fills = { venueFills },
        }, ct).ConfigureAwait(false);
        fills.Publish(PositionUpdateKind.Reduced, reduced, open.MarkPrice);
    }

    private async Task<int> RestoreProtectionAsync(
        string symbol, PositionRisk open, LedgerV1.PositionRecord record, IReadOnlyList<ConditionalOrderInfo> conditional, string stamp, CancellationToken ct)
    {
        var side = open.PositionAmt > 0 ? Domain.Side.Long : Domain.Side.Short;
        var recordedStop = Wire.OptionalPositive(record.StopLossPrice, "stop_loss_price");
        var recordedTake = Wire.OptionalPositive(record.TakeProfitPrice, "take_profit_price");
        // Only orders that guard this position count: a stop on the wrong side (a closePosition BUY under a long) closes
        // nothing of it.
        var stops = ProtectiveOrders.Guarding(conditional, side, ConditionalOrderType.StopMarket);
        var takes = ProtectiveOrders.Guarding(conditional, side, ConditionalOrderType.TakeProfitMarket);
        var restored = 0;
        restored += await CancelSupersededAsync(symbol, side, "stop-loss", stops, conditional, recordedStop, stamp, ct).ConfigureAwait(false);
        restored += await CancelSupersededAsync(symbol, side, "take-profit", takes, conditional, recordedTake, stamp, ct).ConfigureAwait(false);
        if (recordedStop is { } sl && stops.Count == 0)
        {
            restored++;
            try
            {
                await protective.PlaceStopLossAsync(symbol, side, sl, ExecutionWire.Derived("restore-sl:" + record.PositionId, stamp), ct).ConfigureAwait(false);
                await ReportAsync("stop-loss", symbol, $"the stop-loss at {Wire.Format(sl)} is missing at the venue; restored", stamp, ct).ConfigureAwait(false);
            }
            catch (Binance.Errors.BinanceApiException ex) when (ex.Kind == Binance.Errors.BinanceErrorKind.OrderWouldTrigger)
            {
                // The market is already through the stop (-2021, or -4142 from the algo order API): what the stop-loss was
                // there to do is to be out, now.
                await CloseThroughMissingAsync("stop-loss", "restore-sl:", symbol, side, open, record, sl, stamp, ct).ConfigureAwait(false);
                return restored;
            }
        }

        if (recordedTake is { } tp && takes.Count == 0)
        {
            restored++;
            try
            {
                await protective.PlaceTakeProfitAsync(symbol, side, tp, ExecutionWire.Derived("restore-tp:" + record.PositionId, stamp), ct).ConfigureAwait(false);
                await ReportAsync("take-profit", symbol, $"the take-profit at {Wire.Format(tp)} is missing at the venue; restored", stamp, ct).ConfigureAwait(false);
            }
            catch (Binance.Errors.BinanceApiException ex) when (ex.Kind == Binance.Errors.BinanceErrorKind.OrderWouldTrigger)
            {
                // The market is already past the target: the take-profit would have closed the position there, so it is
                // closed now (otherwise every pass would fail on the same refusal).
                await CloseThroughMissingAsync("take-profit", "restore-tp:", symbol, side, open, record, tp, stamp, ct).ConfigureAwait(false);
            }
        }

        return restored;
    }

    /// <summary>
    /// More than one closePosition order of a kind guarding the position: the newest stays and the older ones are
    /// cancelled, since each would close the whole position at its own trigger. Binance refuses a second one (-4130)
    /// and an add cancels the older one before it places its own, so this is a guard for a venue that lets two stand;
    /// the newest is the latest intent even where the record still holds an older price, and the risk event names both.
    /// </summary>
    private async Task<int> CancelSupersededAsync(
        string symbol, Domain.Side side, string kind, List<ConditionalOrderInfo> guarding, IReadOnlyList<ConditionalOrderInfo> conditional,
        decimal? recorded, string stamp, CancellationToken ct)
    {
        if (guarding.Count < 2)
        {
            return 0;
        }

        var kept = guarding[^1];
        var older = guarding.Take(guarding.Count - 1).ToList();
        var recordedText = recorded is { } price ? "the recorded " + Wire.Format(price) : "no recorded price";
        await ReportAsync("superseded-" + kind, symbol,
            $"{guarding.Count} {kind} orders at the venue; kept the newest, {kept.ClientAlgoId} at {Wire.Format(kept.TriggerPrice)} ({recordedText}), cancelled {string.Join(", ", older.Select(o => o.ClientAlgoId + " at " + Wire.Format(o.TriggerPrice)))}",
            stamp, ct).ConfigureAwait(false);
        // On the listing this pass already read (no second read of the venue).
        var (_, failures) = await protective.CancelSupersededAsync(side, [kept], conditional, ct).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            // The symbol's pass fails and is tried again; the older orders still guard the position meanwhile.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures[0]);
        }

        return 1;
    }

    /// <summary>
    /// A missing stop-loss or take-profit the market has already passed cannot be restored (the venue refuses it, -2021
    /// or -4142): the position is closed at once with a reduce-only market order, as the order would have closed it (and
    /// as a stop-loss that could not be placed on an open is), and the close is recorded with its fills. Its client id
    /// derives from the record, so a repeated pass finds the order.
    /// </summary>
    private async Task CloseThroughMissingAsync(
        string kind, string idPrefix, string symbol, Domain.Side side, PositionRisk open, LedgerV1.PositionRecord record, decimal price, string stamp,
        CancellationToken ct)
    {
        await ReportAsync(kind + "-passed", symbol,
            $"the {kind} at {Wire.Format(price)} is missing and the mark {Wire.Format(open.MarkPrice)} is past it; the position is closed at once", stamp, ct)
            .ConfigureAwait(false);
        var closeId = ExecutionWire.Derived(idPrefix + record.PositionId, "close");
        // Read again: a size difference booked earlier in this pass changed the record.
        record = await ledger.OpenRecordAsync(symbol, ct).ConfigureAwait(false) ?? record;
        var order = await venue.GetOrderAsync(symbol, closeId, ct).ConfigureAwait(false);
        if (order is not null && ExecutionWire.EndedUnfilled(order))
        {
            // An earlier pass's close that the book could not fill (in whole or part): this pass tries again under an
            // id of its own. Reduce-only, it can never close more than stands.
            closeId = ExecutionWire.Derived(idPrefix + record.PositionId, "close:" + stamp);
            order = await venue.GetOrderAsync(symbol, closeId, ct).ConfigureAwait(false);
        }

        order ??= (await venue.PlaceOrderAsync(
            new NewOrder(symbol, ExecutionWire.ClosingOrder(side), OrderType.Market, Math.Abs(open.PositionAmt), ReduceOnly: true), closeId, ct)
            .ConfigureAwait(false)).Order;
        order = await VenueOrders.EndedAsync(venue, order, ct, orStillWorking: true).ConfigureAwait(false);
        if (order.ExecutedQty < order.OrigQty)
        {
            // Not closed (no liquidity): nothing is booked as a close, and the orders still at the venue (a take-profit)
            // stay. A part that filled is booked by the next pass as the size difference it is, and the close is tried
            // again there.
            await ReportAsync(kind + "-close-unfilled", symbol,
                $"the close at once filled {Wire.Format(order.ExecutedQty)} of {Wire.Format(order.OrigQty)} ({order.Status}); the position stays open without its {kind}, and the close is tried again next pass",
                stamp, ct).ConfigureAwait(false);
            return;
        }

        // Closed: what else stood for it goes now, not before; a cancel that fails still leaves the close to be recorded.
        await protective.CancelAllAfterCloseAsync(symbol, closeId, ct).ConfigureAwait(false);

        await fills.RecordCloseAsync(record, order, kind + " missing and passed: closed at once", "close:" + closeId, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The venue's own close of <paramref name="record"/>: its latest fills on the symbol, all on the closing side, that
    /// add up exactly to the record's open quantity (fills are whole, and anything Execution itself reduced came
    /// before them). Read from the record's opening (at most the venue's 7-day window). Null when they do not add up,
    /// or the window is full: then the record is closed at the mark as before, and the risk event says so.
    /// <c>Liquidation</c> is the client order id of the venue's liquidation order among them, if one is: Binance gives its
    /// liquidation orders ids starting "autoclose-" (ADL's "adl_autoclose" is a deleveraging, not a liquidation of ours).
    /// </summary>
    private async Task<(OrderInfo Order, OrderFills Fills, string? Liquidation)?> VenueCloseAsync(string symbol, LedgerV1.PositionRecord record, CancellationToken ct)
    {
        const int Limit = 1000;
        var now = await venue.GetServerTimeAsync(ct).ConfigureAwait(false);
        var opened = record.OpenedAt?.ToDateTimeOffset() ?? now;
        var earliest = now - TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1);
        var trades = await venue.GetUserTradesAsync(new UserTradesQuery(symbol, StartTime: opened > earliest ? opened : earliest, Limit: Limit), ct)
            .ConfigureAwait(false);
        if (trades.Count >= Limit)
        {
            return null;
        }

        var closing = record.Side == Common.V1.Side.Long ? OrderSide.Sell : OrderSide.Buy;
        if (LatestFillsMaking(trades, closing, Wire.Decimal(record.Quantity, "quantity")) is not { } picked)
        {
            return null;
        }

        var sum = picked.Sum(t => t.Qty);
        var last = picked[^1];
        var average = VolumeWeighted(picked.Select(t => (t.Price, t.Qty)));
        var order = new OrderInfo(
            symbol, last.OrderId, "venue-" + last.OrderId.ToString(CultureInfo.InvariantCulture), closing, "MARKET", OrderStatus.Filled, sum, sum, 0m,
            average, picked.Sum(t => t.QuoteQty), 0m, ReduceOnly: true, ClosePosition: false, "BOTH", string.Empty, last.Time);
        // The orders behind the fills: each fill is recorded under its own order's client id (so a retry of one of ours
        // finds its trades), and a liquidation order among them makes the close a liquidation.
        var clientOrderIds = new Dictionary<long, string>();
        foreach (var orderId in picked.Select(t => t.OrderId).Distinct())
        {
            if (await venue.GetOrderByIdAsync(symbol, orderId, ct).ConfigureAwait(false) is { } placed)
            {
                clientOrderIds[orderId] = placed.ClientOrderId;
            }
        }

        var liquidation = clientOrderIds.Values.FirstOrDefault(id => id.StartsWith(LiquidationOrderPrefix, StringComparison.Ordinal));
        return (order, new OrderFills(picked.Sum(t => t.Commission), picked, clientOrderIds), liquidation);
    }

    /// <summary>
    /// The latest of <paramref name="trades"/>, all on <paramref name="side"/>, that add up exactly to
    /// <paramref name="quantity"/>, oldest first. Fills are whole, and the walk back from the newest stops at the first
    /// fill of the other side. Null when they do not add up.
    /// </summary>
    private static List<UserTrade>? LatestFillsMaking(IEnumerable<UserTrade> trades, OrderSide side, decimal quantity)
    {
        var picked = new List<UserTrade>();
        var sum = 0m;
        foreach (var trade in trades.OrderByDescending(t => t.Time).ThenByDescending(t => t.Id))
        {
            if (trade.Side != side || sum >= quantity)
            {
                break;
            }

            picked.Add(trade);
            sum += trade.Qty;
        }

        if (picked.Count == 0 || sum != quantity)
        {
            return null;
        }

        picked.Reverse();
        return picked;
    }

    /// <summary>Fills' volume-weighted price, to the Ledger's 8 decimals (half away from zero, the Ledger's rounding).</summary>
    private static decimal VolumeWeighted(IEnumerable<(decimal Price, decimal Quantity)> fills)
    {
        var (value, quantity) = fills.Aggregate((0m, 0m), (sum, f) => (sum.Item1 + f.Price * f.Quantity, sum.Item2 + f.Quantity));
        return Wire.RoundMoney(value / quantity);
    }

    /// <summary>The trigger of the newest order of <paramref name="type"/> guarding the position (the one a later pass keeps).</summary>
    private static string ProtectivePrice(IReadOnlyList<ConditionalOrderInfo> orders, PositionRisk open, ConditionalOrderType type) =>
        ProtectiveOrders.Guarding(orders, open.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short, type) is { Count: > 0 } guarding
            ? Wire.Format(guarding[^1].TriggerPrice)
            : string.Empty;

    private Task ReportAsync(
        string kind, string symbol, string detail, string stamp, CancellationToken ct,
        LedgerV1.RiskEventSeverity severity = LedgerV1.RiskEventSeverity.Warning)
    {
        Log.Mismatch(logger, kind, symbol, detail);
        return ledger.LogRiskEventAsync($"reconcile:{kind}:{symbol}:{stamp}", EventType, severity, detail, symbol, ct);
    }

    /// <summary>How Binance's liquidation orders' client ids begin (USDⓈ-M user data stream, ORDER_TRADE_UPDATE; forceOrders).</summary>
    public const string LiquidationOrderPrefix = "autoclose-";
}
