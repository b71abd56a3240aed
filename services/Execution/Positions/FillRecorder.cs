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
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// What follows an opening fill: the protective orders (a stop-loss that cannot be placed closes the position at
/// once), the Ledger records and the answer. Runs the same on a first attempt and on a resumed one: every venue
/// order and Ledger write is keyed, so a resumed run finds what the first one did.
/// </summary>
/// <remarks>
/// In parts: the open's completion here; the Ledger records of an opening fill (FillRecorder.Booking.cs); the close at once
/// of a position whose stop-loss could not be placed, and the recording of closing fills (FillRecorder.Closing.cs); and the
/// position updates streamed for every change (FillRecorder.Streaming.cs).
/// </remarks>
public sealed partial class FillRecorder(
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
    /// <param name="keepStanding">
    /// An open completed in the background, without its caller (see OpenPositionHandler.CompleteInBackground): the caller
    /// may have opened again on the symbol meanwhile under another id, with newer prices. A protective order of a kind
    /// already guarding the position is kept, as an add's older one whose cancel failed is (the record keeps its price),
    /// instead of being replaced by this older request's: a retry by the caller replaces, as it always has.
    /// </param>
    public async Task<OpenPositionResponse> CompleteOpenAsync(
        OpenCommand command, OrderInfo order, FundingQuote quote, bool resumed, bool positionOpen = true, PositionRisk? before = null,
        bool keepStanding = false)
    {
        // Keeping what stands is what an add does when its older order cannot be replaced: the same handling below.
        var adding = before is not null || keepStanding;
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
            ? PlaceOrFindAsync(command, resumed, replacing, ConditionalOrderType.StopMarket, sl, ProtectiveOrders.StopLossId(command.ClientOrderId), ct, keepStanding)
            : null;
        var takeTask = protect && command.TakeProfit is { } tp
            ? PlaceOrFindAsync(command, resumed, replacing, ConditionalOrderType.TakeProfitMarket, tp, ProtectiveOrders.TakeProfitId(command.ClientOrderId), ct, keepStanding)
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
        var refusedByLedger = false;
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
        catch (RpcException ex) when (!LedgerWrites.IsTransient(ex))
        {
            // The Ledger answered the fill's record with a refusal (not an outage, which queues the write): the order has
            // filled at the venue all the same. Answered as a refusal, the caller would take it that nothing was done (a
            // refusal frees the client order id) and could open again under another id, doubling the position. The answer
            // is the fill, with a warning; a critical risk event says the Ledger's record of the symbol lacks it, and the
            // next reconciliation pass repairs that record from the venue (adopts the position with the order's fills when
            // the Ledger holds none; books the difference when it holds one, an add's record).
            Log.OpenRefusedByLedger(logger, ex, command.Symbol, command.ClientOrderId, ex.StatusCode);
            await ledger.LogRiskEventAsync("open-refused:" + command.ClientOrderId, "reconciliation_mismatch", LedgerV1.RiskEventSeverity.Critical,
                $"Opened {command.Symbol} at the venue ({Wire.Format(order.ExecutedQty)} at {Wire.Format(order.AvgPrice)}, order {command.ClientOrderId}), but the Ledger refused its record ({ex.StatusCode}: {ex.Status.Detail}): the Ledger's record of {command.Symbol} lacks this fill until reconciliation repairs it from the venue",
                command.Symbol, ct).ConfigureAwait(false);
            warnings.Add($"ledger: the order filled at the venue, but the Ledger refused its record ({ex.StatusCode}: {ex.Status.Detail}); the position is open at the venue, and the next reconciliation pass (a minute apart at most) repairs the Ledger's record from the venue");
            (record, refusedByLedger) = (null, true);
        }

        if (stopFailure is not null)
        {
            Log.StopLossFailed(logger, stopFailure, command.Symbol, command.ClientOrderId);
            // The position stood at the venue before its close at once: streamed as the open it was, so the close (or,
            // when the close fills in part, the position left standing) follows an update a subscriber has seen. Before,
            // the stream showed a CLOSED of a position it never saw open, or nothing at all of one left open.
            await StreamOpenAsync(record, recorded, order, before, resumed, beforeCloseAtOnce: true).ConfigureAwait(false);
            var closing = await CloseUnprotectedAsync(command, record, recordingFailure, ct).ConfigureAwait(false);
            if (closing is not null && closing.ExecutedQty < closing.OrigQty)
            {
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"stop_loss_price: the stop-loss could not be placed ({stopFailure.Message}), and the close at once filled {Wire.Format(closing.ExecutedQty)} of {Wire.Format(closing.OrigQty)}: the position stands at the venue without a stop-loss"));
            }

            throw new RpcException(new Status(StatusCode.Aborted,
                $"stop_loss_price: the stop-loss could not be placed ({stopFailure.Message}); the position was closed at once"));
        }

        if (record is null && !refusedByLedger)
        {
            warnings.Add("ledger: the fill is recorded in the background (the Ledger is not answering, or earlier writes still wait for it); it will land");
        }

        // The plan's simple estimate at the fill, computed with the Domain function Risk's GetLiquidationPrice (SIMPLE)
        // serves: the same figure, without a call on every open.
        var liquidation = LiquidationPrice.Simple(order.AvgPrice, command.Leverage, command.Side, command.Instrument.Filters.TickSize);

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
        await StreamOpenAsync(record, recorded, order, before, resumed).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// Streams the position an opening fill made, from the Ledger's record or, when its write was queued, from the fill
    /// (see Publish). An add changes a position that stood (it holds more than this fill): CHANGED, as reconciliation's
    /// adds are; OPENED only for a new one.
    /// </summary>
    /// <param name="beforeCloseAtOnce">
    /// The update of a position about to be closed at once (its stop-loss refused): nothing may delay or prevent that
    /// close, so no venue read is made for it (a queued record's update is the fill's), a failure is logged and passed
    /// over, and the update shows no stop-loss (the one asked for was refused).
    /// </param>
    private async Task StreamOpenAsync(
        LedgerV1.PositionRecord? record, OpenCommand recorded, OrderInfo order, PositionRisk? before, bool resumed, bool beforeCloseAtOnce = false)
    {
        if (updates.SubscriberCount == 0)
        {
            return;
        }

        try
        {
            var position = record is not null
                ? PositionMapping.FromRecord(record, order.AvgPrice)
                : await FilledAsync(recorded, order, before, resumed && !beforeCloseAtOnce).ConfigureAwait(false);
            if (beforeCloseAtOnce && position is not null)
            {
                position.StopLossPrice = string.Empty;
            }

            var grew = position is not null && Wire.Decimal(position.Quantity, "quantity") > order.ExecutedQty;
            Publish(grew ? PositionUpdateKind.Changed : PositionUpdateKind.Opened, position);
        }
        catch (Exception ex) when (beforeCloseAtOnce)
        {
            Log.UpdateNotStreamed(logger, ex, recorded.Symbol, recorded.ClientOrderId);
        }
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
        OpenCommand command, bool resumed, bool replacing, ConditionalOrderType type, decimal trigger, string key, CancellationToken ct,
        bool keepStanding = false)
    {
        if (resumed && await protective.FindPlacedAsync(key, ct).ConfigureAwait(false) is { } found)
        {
            return found;
        }

        if (keepStanding && await protective.StandingAsync(command.Symbol, command.Side, type, ct).ConfigureAwait(false) is { } standing)
        {
            // Kept: it guards the position at a price set by another request (see CompleteOpenAsync).
            throw new ProtectionNotReplacedException(type, new InvalidOperationException(
                $"{standing.ClientAlgoId} at {Wire.Format(standing.TriggerPrice)} guards the position; an open completed without its caller does not replace it"));
        }

        var (placed, replaced) = await protective.PlaceReplacingAsync(command.Symbol, command.Side, type, trigger, key, replacing, ct).ConfigureAwait(false);
        foreach (var older in replaced)
        {
            Log.ProtectionReplaced(logger, command.Symbol, older.Type.ToString(), older.ClientAlgoId, older.TriggerPrice, command.ClientOrderId);
        }

        return placed;
    }
}
