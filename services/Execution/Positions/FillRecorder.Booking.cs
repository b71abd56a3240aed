using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

// FillRecorder's Ledger records of an opening fill, and whether a resumed add or reduce is booked already.
public sealed partial class FillRecorder
{
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
                await ledger.RecordTradeAsync(order, fills, 0m, existing.PositionId, command.Strategy, ct).ConfigureAwait(false);
            }

            return await AdoptedProtectionAsync(existing, command, ct).ConfigureAwait(false);
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
    /// An adopted record holds the protective prices of the orders the venue held when reconciliation adopted it: none,
    /// when the first attempt died between the fill and its stop-loss. This resumed open has just placed what the caller
    /// asked for (or found the first attempt's), so the record takes those prices. Without them the record showed no
    /// stop-loss (GetPosition, ListPositions, the stream), and reconciliation, which restores only what the record holds,
    /// would not put it back once it was gone from the venue.
    /// </summary>
    private async Task<LedgerV1.PositionRecord> AdoptedProtectionAsync(LedgerV1.PositionRecord existing, OpenCommand command, CancellationToken ct)
    {
        var stopLoss = command.StopLoss is { } sl && sl != Wire.OptionalPositive(existing.StopLossPrice, "stop_loss_price") ? sl : (decimal?)null;
        var takeProfit = command.TakeProfit is { } tp && tp != Wire.OptionalPositive(existing.TakeProfitPrice, "take_profit_price") ? tp : (decimal?)null;
        if (stopLoss is null && takeProfit is null)
        {
            return existing;
        }

        // Keyed by the open and the prices: another amendment of the same open (its prices changed since by an add) is
        // another write, not a replay of this one.
        return await ledger.AmendProtectionAsync(
                $"open-protection:{command.ClientOrderId}:{Wire.Format(stopLoss)}:{Wire.Format(takeProfit)}", existing, stopLoss, takeProfit, ct)
            .ConfigureAwait(false) ?? existing;
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
        await ledger.RecordTradeAsync(order, orderFills, realizedPnl, record.PositionId, strategy, ct).ConfigureAwait(false);
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
}
