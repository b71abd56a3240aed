using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Reconciliation's repairs of the protective orders at the venue: a stop-loss or take-profit the record holds and the
/// venue lacks is restored (or, when the market has passed it, the position is closed at once), older ones superseded by
/// a newer one are cancelled, and those orphaned by a position gone are cancelled.
/// </summary>
public sealed class ProtectionRepair(
    IBinanceClient venue,
    LedgerBook ledger,
    ProtectiveOrders protective,
    FillRecorder fills,
    MismatchReporter report)
{
    /// <summary>
    /// The record's stop-loss and take-profit against the orders guarding the position: older ones of a kind superseded
    /// by a newer one are cancelled, and a missing one is restored. Returns how many differences it repaired.
    /// </summary>
    public async Task<int> RestoreProtectionAsync(
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
                await report.ReportAsync("stop-loss", symbol, $"the stop-loss at {Wire.Format(sl)} is missing at the venue; restored", stamp, ct).ConfigureAwait(false);
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
                await report.ReportAsync("take-profit", symbol, $"the take-profit at {Wire.Format(tp)} is missing at the venue; restored", stamp, ct).ConfigureAwait(false);
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
    /// Cancels <paramref name="orphans"/>, the protective orders standing on a symbol with no position; 1 when there were
    /// any (one difference), 0 when none.
    /// </summary>
    public async Task<int> CancelOrphansAsync(string symbol, List<ConditionalOrderInfo> orphans, string stamp, CancellationToken ct)
    {
        if (orphans.Count == 0)
        {
            return 0;
        }

        // Every one is tried, and the report says what went; a refusal fails the symbol's pass, and the next tries again.
        var (cancelled, failures) = await protective.CancelEachAsync(orphans, ct).ConfigureAwait(false);
        await report.ReportAsync("orphan-orders", symbol,
            $"{orphans.Count} protective order(s) at the venue with no position; {(failures.Count == 0 ? "cancelled" : $"{cancelled.Count} cancelled, {failures.Count} refused")}",
            stamp, ct).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            throw new AggregateException($"{failures.Count} protective order(s) of {symbol} could not be cancelled", failures);
        }

        return 1;
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
        await report.ReportAsync("superseded-" + kind, symbol,
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
        await report.ReportAsync(kind + "-passed", symbol,
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
            await report.ReportAsync(kind + "-close-unfilled", symbol,
                $"the close at once filled {Wire.Format(order.ExecutedQty)} of {Wire.Format(order.OrigQty)} ({order.Status}); the position stays open without its {kind}, and the close is tried again next pass",
                stamp, ct).ConfigureAwait(false);
            return;
        }

        // Closed: what else stood for it goes now, not before; a cancel that fails still leaves the close to be recorded.
        await protective.CancelAllAfterCloseAsync(symbol, closeId, ct).ConfigureAwait(false);

        await fills.RecordCloseAsync(record, order, kind + " missing and passed: closed at once", "close:" + closeId, ct).ConfigureAwait(false);
    }
}
