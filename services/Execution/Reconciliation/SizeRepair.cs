using System.Globalization;
using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Reconciliation's size repairs: a venue position the Ledger lacks is adopted, and a difference between the venue's
/// size and the record's is booked, each with the venue's fills that made it where they account for it
/// (<see cref="VenueFillHistory"/>). Logs under <see cref="Reconciler"/>'s category.
/// </summary>
public sealed class SizeRepair(
    LedgerBook ledger,
    VenueFillHistory history,
    MismatchReporter report,
    FillRecorder fills,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>
    /// Adopts a venue position the Ledger lacks (an open whose Ledger write was lost with a crash, or a position opened
    /// by hand). It is recorded with the venue's fills that built it, so their trade ids, fees and times are not lost
    /// (<see cref="VenueFillHistory.LatestVenueFillsAsync"/>); when the fills do not account for the position, or the Ledger already
    /// holds one of them, it is adopted at the venue's entry without fills, and the risk event says so.
    /// </summary>
    public async Task<LedgerV1.PositionRecord?> AdoptAsync(
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
            Strategy = Reconciler.AdoptedStrategy,
            OpenedAt = Wire.Timestamp(open.UpdateTime),
            StopLossPrice = ProtectivePrice(conditional, open, ConditionalOrderType.StopMarket),
            TakeProfitPrice = ProtectivePrice(conditional, open, ConditionalOrderType.TakeProfitMarket),
        };

        var opening = open.PositionAmt > 0m ? OrderSide.Buy : OrderSide.Sell;
        if (await history.LatestVenueFillsAsync(symbol, opening, Math.Abs(open.PositionAmt), since: null, ct).ConfigureAwait(false) is { } fills)
        {
            // A key of its own: should the Ledger refuse it, the adoption without fills below is a different request
            // under a different key, never a reuse of this one with another payload (which would be refused as well).
            var withFills = request.Clone();
            withFills.IdempotencyKey = "adopt-fills:" + request.IdempotencyKey["adopt:".Length..];
            withFills.Fills.Add(fills);
            withFills.Fee = Wire.Format(OrderFills.UsdtFee(fills));
            withFills.Strategy = Reconciler.AdoptedWithFillsStrategy;
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
                await report.ReportAsync("adopt", symbol,
                    $"the venue holds {Wire.Format(open.PositionAmt)} that the Ledger lacks; adopted at entry {Wire.Format(open.EntryPrice)} with its {fills.Count} fill(s) from the venue", stamp, ct)
                    .ConfigureAwait(false);
                return adopted;
            }
        }

        var adoptedBare = await ledger.OpenAsync(request, ct).ConfigureAwait(false);
        await report.ReportAsync("adopt", symbol,
            $"the venue holds {Wire.Format(open.PositionAmt)} that the Ledger lacks; adopted at entry {Wire.Format(open.EntryPrice)} without fills (the venue's fills do not account for it alone)", stamp, ct)
            .ConfigureAwait(false);
        return adoptedBare;
    }

    /// <summary>
    /// Books a difference between the venue's size and the record's (a reduce or an add whose Ledger write was lost with
    /// a crash, or one made by hand). It is recorded with the venue's fills that made it, the latest fills on its side
    /// adding up exactly to the difference (<see cref="VenueFillHistory.LatestVenueFillsAsync"/>), at their volume-weighted price and with
    /// their fees, trade ids and client ids. When they do not account for it, or the Ledger refuses them (it holds one
    /// already, or they predate the record's last change), it is booked at the mark without fills, and the risk event
    /// says which.
    /// </summary>
    public async Task<int> BookSizeDifferenceAsync(string symbol, PositionRisk open, LedgerV1.PositionRecord record, string stamp, CancellationToken ct)
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
        if (await history.LatestVenueFillsAsync(symbol, side, Math.Abs(difference), record.OpenedAt?.ToDateTimeOffset(), ct).ConfigureAwait(false) is { } fills)
        {
            var price = VenueFillHistory.VolumeWeighted(fills.Select(f => (Wire.Decimal(f.Price, "price"), Wire.Decimal(f.Quantity, "quantity"))));
            var fee = OrderFills.UsdtFee(fills);
            try
            {
                // A key of its own, as the adoption's: the booking at the mark below is then never a reused key.
                await BookSizeAsync(record, open, added, "reconcile-size-fills:" + key, Math.Abs(difference), price, fee, fills[^1].ExecutedAt, fills, ct)
                    .ConfigureAwait(false);
                await report.ReportAsync("size", symbol,
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
        await report.ReportAsync("size", symbol,
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

    /// <summary>The trigger of the newest order of <paramref name="type"/> guarding the position (the one a later pass keeps).</summary>
    private static string ProtectivePrice(IReadOnlyList<ConditionalOrderInfo> orders, PositionRisk open, ConditionalOrderType type) =>
        ProtectiveOrders.Guarding(orders, open.PositionAmt > 0m ? Domain.Side.Long : Domain.Side.Short, type) is { Count: > 0 } guarding
            ? Wire.Format(guarding[^1].TriggerPrice)
            : string.Empty;
}
