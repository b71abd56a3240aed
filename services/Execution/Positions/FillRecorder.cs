using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Domain.Margin;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Streaming;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// What follows an opening fill: the protective orders (a stop-loss that cannot be placed closes the position at
/// once), the Ledger records and the answer. Runs the same on a first attempt and on a resumed one: every venue
/// order and Ledger write is keyed, so a resumed run finds what the first one did.
/// </summary>
public sealed class FillRecorder(
    IBinanceClient venue,
    ProtectiveOrders protective,
    LedgerBook ledger,
    PositionUpdateHub updates,
    TimeProvider time,
    ILogger<FillRecorder> logger)
{
    /// <param name="positionOpen">
    /// Whether the venue holds a position on the symbol. A resumed open whose position is gone (closed since) places no
    /// protective orders: they would guard nothing.
    /// </param>
    /// <param name="before">
    /// The position the venue held before the order, when it held one: the order added to it (and its update, streamed
    /// from the fill when the Ledger's record is queued, adds to it). Its new stop-loss or take-profit then replaces the
    /// position's older one of the same kind, cancelled first (<see cref="ProtectiveOrders.PlaceReplacingAsync"/>); a
    /// resumed open does the same, since it cannot tell. When the older one cannot be cancelled it stays, guarding the
    /// position at its price (the answer warns, and the record keeps that price); a new stop-loss that cannot be placed
    /// once the older one is gone is a stop-loss that could not be placed: the position is closed at once.
    /// </param>
    public async Task<OpenPositionResponse> CompleteOpenAsync(
        OpenCommand command, OrderInfo order, FundingQuote quote, bool resumed, bool positionOpen = true, PositionRisk? before = null)
    {
        var adding = before is not null;
        // The order has filled: what follows (its stop-loss, or the close at once when that fails, and its record) is
        // not cut short by the service stopping, which waits for this call. Each venue and Ledger call has its own timeout.
        // Cut short, the stop-loss asked for was never placed, and after the restart the adopted position stood without it.
        var ct = CancellationToken.None;
        if (order.ExecutedQty <= 0m)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"order: the venue did not fill order {order.ClientOrderId} (status {order.Status})"));
        }

        var warnings = new List<string>(quote.Warnings);
        var fillsTask = FillsOrNoneAsync(order, ct);
        var protect = positionOpen || !resumed;
        // An add (or a resumed open, which cannot tell) replaces the position's stop-loss or take-profit of the kind it
        // names: Binance keeps one of each per direction, so the older one is cancelled before the new one is placed.
        var replacing = adding || resumed;
        var stopTask = protect && command.StopLoss is { } sl
            ? PlaceOrFindAsync(command, resumed, replacing, ConditionalOrderType.StopMarket, sl, ProtectiveOrders.StopLossId(command.ClientOrderId), ct)
            : null;
        var takeTask = protect && command.TakeProfit is { } tp
            ? PlaceOrFindAsync(command, resumed, replacing, ConditionalOrderType.TakeProfitMarket, tp, ProtectiveOrders.TakeProfitId(command.ClientOrderId), ct)
            : null;
        // The position exists at the venue whatever its fills say: it must still be recorded and, above all, closed at
        // once if its stop-loss failed. Losing the fee detail is the lesser harm.
        var fills = await fillsTask.ConfigureAwait(false);

        var fee = fills.Fee;
        Exception? stopFailure = null;
        // What the Ledger records: an add whose older order still stands (not replaced) keeps that price in the record.
        var recorded = command;
        if (stopTask is not null)
        {
            try
            {
                await stopTask.ConfigureAwait(false);
            }
            catch (ProtectionNotReplacedException ex) when (adding)
            {
                // An add: the older stop-loss is the position's, at the price its record holds (which the add keeps).
                Log.ProtectionNotReplaced(logger, ex, command.Symbol, command.ClientOrderId);
                warnings.Add("stop_loss_price: " + ex.Message);
                recorded = recorded with { StopLoss = null };
            }
            catch (Exception ex) when (ex is BinanceException or ProtectionNotReplacedException)
            {
                // Not an add (a resumed open cannot tell): a stop-loss at a price no record holds is not the caller's.
                stopFailure = ex;
            }
        }

        if (takeTask is not null)
        {
            try
            {
                await takeTask.ConfigureAwait(false);
            }
            catch (ProtectionNotReplacedException ex) when (adding)
            {
                Log.ProtectionNotReplaced(logger, ex, command.Symbol, command.ClientOrderId);
                warnings.Add("take_profit_price: " + ex.Message);
                recorded = recorded with { TakeProfit = null };
            }
            catch (ProtectionNotReplacedException ex)
            {
                Log.TakeProfitFailed(logger, ex, command.Symbol, command.ClientOrderId);
                warnings.Add("take_profit_price: the take-profit could not be placed: " + ex.Message);
            }
            catch (BinanceException ex)
            {
                Log.TakeProfitFailed(logger, ex, command.Symbol, command.ClientOrderId);
                warnings.Add("take_profit_price: the take-profit could not be placed: " + ex.Message);
            }
        }

        LedgerV1.PositionRecord? record;
        Exception? recordingFailure = null;
        try
        {
            record = await RecordOpenAsync(recorded, order, fills, resumed, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (stopFailure is not null && ex is not OperationCanceledException)
        {
            // The position stands without its stop-loss: closing it comes first, the bookkeeping that failed after.
            Log.OpenUnrecordedBeforeUnprotectedClose(logger, ex, command.Symbol, command.ClientOrderId);
            (record, recordingFailure) = (null, ex);
        }

        if (stopFailure is not null)
        {
            Log.StopLossFailed(logger, stopFailure, command.Symbol, command.ClientOrderId);
            var closing = await CloseUnprotectedAsync(command, record, recordingFailure, ct).ConfigureAwait(false);
            if (closing is not null && closing.ExecutedQty < closing.OrigQty)
            {
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"stop_loss_price: the stop-loss could not be placed ({stopFailure.Message}), and the close at once filled {Wire.Format(closing.ExecutedQty)} of {Wire.Format(closing.OrigQty)}: the position stands at the venue without a stop-loss"));
            }

            throw new RpcException(new Status(StatusCode.Aborted,
                $"stop_loss_price: the stop-loss could not be placed ({stopFailure.Message}); the position was closed at once"));
        }

        if (record is null)
        {
            warnings.Add("ledger: the fill is recorded in the background (the Ledger is not answering, or earlier writes still wait for it); it will land");
        }

        // The plan's simple estimate at the fill, computed with the Domain function Risk's GetLiquidationPrice (SIMPLE)
        // serves: the same figure, without a call on every open.
        var liquidation = LiquidationPrice.Simple(order.AvgPrice, command.Leverage, command.Side);

        var response = new OpenPositionResponse
        {
            PositionId = record?.PositionId ?? string.Empty,
            Symbol = command.Symbol,
            Side = ExecutionWire.Side(command.Side),
            Quantity = Wire.Format(order.ExecutedQty),
            EntryPrice = Wire.Format(order.AvgPrice),
            LiquidationPrice = Wire.Format(liquidation),
            FundingRate = quote.Rate,
            EstimatedDailyFunding = quote.DailyCost,
            Warnings = { warnings },
            Replayed = resumed,
            VenueOrderId = order.OrderId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Fee = Wire.Format(fee),
            OpenedAt = Wire.Timestamp(order.UpdateTime),
        };
        Log.Opened(logger, command.Symbol, command.Side.ToString(), order.ExecutedQty, order.AvgPrice, command.ClientOrderId, response.PositionId);
        // Streamed now, from the Ledger's record or, when its write was queued, from the fill (see Publish). An add changes
        // a position that stood (it holds more than this fill): CHANGED, as reconciliation's adds are; OPENED only for a new one.
        if (updates.SubscriberCount > 0)
        {
            var position = record is not null
                ? PositionMapping.FromRecord(record, order.AvgPrice)
                : await FilledAsync(recorded, order, before, resumed).ConfigureAwait(false);
            var grew = position is not null && Wire.Decimal(position.Quantity, "quantity") > order.ExecutedQty;
            Publish(grew ? PositionUpdateKind.Changed : PositionUpdateKind.Opened, position);
        }

        return response;
    }

    /// <summary>
    /// The position an open left at the venue, for its update when the Ledger's record is not at hand (its write queued):
    /// the fill on top of the position it added to (<paramref name="before"/>), averaged as the venue and the Ledger
    /// average an add's entry. A resumed open cannot tell what stood before its fill: it reads the venue's position, and
    /// streams nothing when that read fails (logged) or the position is gone.
    /// </summary>
    private async Task<Position?> FilledAsync(OpenCommand command, OrderInfo order, PositionRisk? before, bool resumed)
    {
        if (resumed)
        {
            PositionRisk? now;
            try
            {
                now = await OpenAtVenueAsync(command.Symbol, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BinanceException ex)
            {
                Log.UpdateNotStreamed(logger, ex, command.Symbol, command.ClientOrderId);
                return null;
            }

            return now is null ? null : PositionMapping.FromFill(command.Symbol, now.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short,
                Math.Abs(now.PositionAmt), now.EntryPrice, order.AvgPrice, now.Leverage, now.MarginType, null);
        }

        var held = Math.Abs(before?.PositionAmt ?? 0m);
        var entry = before is null
            ? order.AvgPrice
            : Wire.RoundMoney(Domain.Positions.PositionMath.AverageEntryAfterAdd(held, before.EntryPrice, order.ExecutedQty, order.AvgPrice));
        var position = PositionMapping.FromFill(command.Symbol, command.Side, held + order.ExecutedQty, entry, order.AvgPrice, command.Leverage,
            command.MarginType, null);
        // What this order's record carries (an add's record keeps its strategy, and its older stop-loss or take-profit
        // where this order placed none: not known here, so left empty).
        position.StopLossPrice = Wire.Format(command.StopLoss);
        position.TakeProfitPrice = Wire.Format(command.TakeProfit);
        if (before is null)
        {
            position.Strategy = command.Strategy ?? string.Empty;
            position.OpenedAt = Wire.Timestamp(order.UpdateTime);
        }

        return position;
    }

    /// <summary>
    /// Places a protective order (<see cref="ProtectiveOrders.PlaceReplacingAsync"/>: an older one of its kind is
    /// cancelled first when <paramref name="replacing"/>). A resumed open first looks
    /// for the one its first attempt placed under <paramref name="key"/> (<see cref="ProtectiveOrders.FindPlacedAsync"/>)
    /// and places it only when there is none.
    /// </summary>
    private async Task<ConditionalOrderInfo> PlaceOrFindAsync(
        OpenCommand command, bool resumed, bool replacing, ConditionalOrderType type, decimal trigger, string key, CancellationToken ct)
    {
        if (resumed && await protective.FindPlacedAsync(key, ct).ConfigureAwait(false) is { } found)
        {
            return found;
        }

        var (placed, replaced) = await protective.PlaceReplacingAsync(command.Symbol, command.Side, type, trigger, key, replacing, ct).ConfigureAwait(false);
        foreach (var older in replaced)
        {
            Log.ProtectionReplaced(logger, command.Symbol, older.Type.ToString(), older.ClientAlgoId, older.TriggerPrice, command.ClientOrderId);
        }

        return placed;
    }

    /// <summary>
    /// Records the opening fill. A Ledger record that already matches the venue position (adopted by a
    /// reconciliation after a crash) is used as it is, so a resumed open never counts the fill twice.
    /// </summary>
    /// <remarks>
    /// Only a resumed open can meet an adopted record: a first attempt holds the symbol's lock from before its order
    /// was sent, so no reconciliation ran in between, and it skips that read. The position and its trade are one
    /// write unit: if the Ledger does not answer, both wait in the background queue together, in order, so the trade
    /// lands linked to its position.
    /// </remarks>
    private async Task<LedgerV1.PositionRecord?> RecordOpenAsync(OpenCommand command, OrderInfo order, OrderFills fills, bool resumed, CancellationToken ct)
    {
        if (!resumed)
        {
            return await RecordOpenOnAsync(null, command, order, fills, null, ct).ConfigureAwait(false);
        }

        // The venue's position now, read after its order was found filled (a read made alongside that lookup could
        // predate a fill the venue made late) and under the symbol's lock: what a resumed add is judged against.
        var venueOpen = await OpenAtVenueAsync(command.Symbol, ct).ConfigureAwait(false);
        if (ledger.HasWritesPendingAhead)
        {
            // Whether a resumed order is already in the books can only be told from a record that holds every write
            // made before it: decide once they have landed, against the venue as it was now (later changes' writes
            // wait behind this one). Its booking would wait behind them anyway (no record now).
            ledger.AfterQueuedWrites($"open {command.Symbol} {command.ClientOrderId}", command.Symbol,
                async (later, ct2) => await RecordOpenOnAsync(later, command, order, fills, venueOpen, ct2).ConfigureAwait(false));
            return null;
        }

        return await RecordOpenOnAsync(await ledger.OpenRecordAsync(command.Symbol, ct).ConfigureAwait(false), command, order, fills, venueOpen, ct)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Records the opening fill given the symbol's open record (<paramref name="existing"/>: read only when resumed, when
    /// no earlier write waited) and, when resumed, the venue's position read with it (<paramref name="venueOpen"/>).
    /// </summary>
    private async Task<LedgerV1.PositionRecord?> RecordOpenOnAsync(
        LedgerV1.PositionRecord? existing, OpenCommand command, OrderInfo order, OrderFills fills, PositionRisk? venueOpen, CancellationToken ct)
    {
        var fee = fills.Fee;
        if (existing is not null && IsAdoptionOf(existing, order))
        {
            // Adopted with the venue's fills: this order's are among them. Adopted without: record the order as a trade.
            if (!string.Equals(existing.Strategy, Reconciliation.Reconciler.AdoptedWithFillsStrategy, StringComparison.Ordinal))
            {
                await ledger.RecordTradeAsync(order, fee, 0m, existing.PositionId, command.Strategy, ct).ConfigureAwait(false);
            }

            return existing;
        }

        if (existing?.OpenedAt is { } openedAt && openedAt.ToDateTimeOffset() <= order.UpdateTime
            && await AlreadyBookedAsync(existing, order, venueOpen, fills.Trades.Count > 0 ? fills : null, command.Strategy, 0m, ct).ConfigureAwait(false))
        {
            // Already booked: an add to a record opened before it (opening waits for a reconciliation, which books an
            // add lost with a crash as a size difference), or the record this very order opened (opened at its fill). The
            // latter was written again under its key before, and when the first attempt could not read the order's fills
            // (its record holds the order as one trade, no fee) the Ledger refused the different payload: the caller's
            // own retry was answered ALREADY_EXISTS.
            return existing;
        }

        return await ledger.OpenWithTradeAsync(new LedgerV1.OpenPositionRequest
        {
            IdempotencyKey = "open:" + command.ClientOrderId,
            Symbol = command.Symbol,
            Side = ExecutionWire.Side(command.Side),
            Quantity = Wire.Format(order.ExecutedQty),
            EntryPrice = Wire.Format(order.AvgPrice),
            Leverage = command.Leverage,
            MarginType = ExecutionWire.MarginType(command.MarginType),
            Fee = Wire.Format(fee),
            Strategy = command.Strategy ?? string.Empty,
            OpenedAt = Wire.Timestamp(order.UpdateTime),
            StopLossPrice = Wire.Format(command.StopLoss),
            TakeProfitPrice = Wire.Format(command.TakeProfit),
        }, order, fills, command.Strategy, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// For a resumed add or reduce (its order was already at the venue): whether its change is already in
    /// <paramref name="record"/>, booked by the order's first attempt or, after a crash, by a reconciliation (as a size
    /// difference). Booking it again would count it twice.
    /// <list type="bullet">
    /// <item>The Ledger holds trades of the order (its client id): they land with the change or after it, so it is booked.</item>
    /// <item>Otherwise, when the record holds what the venue held (side and size) when the call read it, the change is
    /// booked without its trade (a first attempt that wrote the change alone and lost the
    /// order's trade with a crash; a reconciliation that booked it at the mark): the order is recorded as one trade.</item>
    /// </list>
    /// Both must be seen as of one moment: <paramref name="record"/> read when no Ledger write made before the call still
    /// waited (or by the drain loop once they have landed), <paramref name="venueOpen"/> read by the call under the
    /// symbol's lock after the order was found filled (<see cref="OpenAtVenueAsync"/>). A venue read later could hold
    /// changes made after the call, whose writes are not in the record.
    /// </summary>
    /// <param name="fills">The order's fills when the caller has them (else they are read for its trade).</param>
    public async Task<bool> AlreadyBookedAsync(
        LedgerV1.PositionRecord record, OrderInfo order, PositionRisk? venueOpen, OrderFills? fills, string? strategy, decimal realizedPnl,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(order);
        if ((await ledger.OrderTradesAsync(order.Symbol, order.ClientOrderId, ct).ConfigureAwait(false)).Count > 0)
        {
            Log.AlreadyBooked(logger, order.Symbol, order.ClientOrderId);
            return true;
        }

        if (venueOpen is null || ExecutionWire.SideOfSize(venueOpen.PositionAmt) != record.Side
            || Math.Abs(venueOpen.PositionAmt) != Wire.Decimal(record.Quantity, "quantity"))
        {
            return false;
        }

        var orderFills = fills ?? await FillsOrNoneAsync(order, ct).ConfigureAwait(false);
        await ledger.RecordTradeAsync(order, orderFills.Fee, realizedPnl, record.PositionId, strategy, ct).ConfigureAwait(false);
        Log.AlreadyBooked(logger, order.Symbol, order.ClientOrderId);
        return true;
    }

    /// <summary>The venue's open position on <paramref name="symbol"/>, or null when it holds none.</summary>
    public async Task<PositionRisk?> OpenAtVenueAsync(string symbol, CancellationToken ct) =>
        (await venue.GetPositionsAsync(symbol, ct).ConfigureAwait(false)).FirstOrDefault(p => p.PositionAmt != 0m);

    /// <summary>A reconciliation adopts with key "adopt:…" and the venue's entry; such a record already holds this fill.</summary>
    private static bool IsAdoptionOf(LedgerV1.PositionRecord record, OrderInfo order) =>
        (string.Equals(record.Strategy, Reconciliation.Reconciler.AdoptedStrategy, StringComparison.Ordinal)
         || string.Equals(record.Strategy, Reconciliation.Reconciler.AdoptedWithFillsStrategy, StringComparison.Ordinal))
        && record.OpenedAt is not null && record.OpenedAt.ToDateTimeOffset() >= order.UpdateTime.AddMinutes(-1);

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

    /// <summary>Streams a change from the Ledger's record of it (nothing without one).</summary>
    public void Publish(PositionUpdateKind kind, LedgerV1.PositionRecord? record, decimal price)
    {
        if (record is null || updates.SubscriberCount == 0)
        {
            return;
        }

        Publish(kind, PositionMapping.FromRecord(record, price));
    }

    /// <summary>Streams a change (nothing when it is null).</summary>
    /// <remarks>
    /// The stream's rule: one update per change the venue made to a position, sent when the venue made it, by the request
    /// that made it and under its symbol's lock, so a symbol's updates keep the venue's order. When the Ledger takes the
    /// write within the inline budget, the update is its record. When the write is queued, the update is built from the
    /// fill (<see cref="PositionMapping.FromFill"/>: the size, side and entry the venue now holds; the record's id,
    /// strategy and protective prices where they are known, empty where not), and the write that lands later streams
    /// nothing: it changes the books, not the position. An update then would repeat one already sent or, coming after
    /// changes streamed since, contradict them (a CLOSED after the next position's OPENED). The record's id reaches a
    /// subscriber with the position's next update, or from GetPosition once the write has landed.
    /// </remarks>
    public void Publish(PositionUpdateKind kind, Position? position)
    {
        if (position is null || updates.SubscriberCount == 0)
        {
            return;
        }

        updates.Publish(new PositionUpdate { Kind = kind, At = Wire.Timestamp(time.GetUtcNow()), Position = position });
    }
}
