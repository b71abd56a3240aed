using System.Collections.Concurrent;
using System.Globalization;
using TradeEngine.Binance;
using TradeEngine.Domain;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;
using PositionMode = TradeEngine.Binance.Models.PositionMode;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Compares the venue's positions and open conditional orders with the Ledger's open records, symbol by symbol
/// under the symbol's lock (so no open or close is half-way), and repairs every difference: a position the Ledger
/// lacks is adopted, a record the venue no longer has is closed, a leverage changed at the venue is amended, a size
/// difference is booked, a missing protective order is restored, and an orphaned one is cancelled. Every difference is
/// logged as a risk event.
/// </summary>
/// <remarks>
/// The closes are made here; the other repairs are <see cref="SizeRepair"/>'s (adoption and size),
/// <see cref="ProtectionRepair"/>'s (protective orders) and <see cref="LeverageRepair"/>'s, each reported through
/// <see cref="MismatchReporter"/>.
/// </remarks>
public sealed class Reconciler(
    IBinanceClient venue,
    LedgerBook ledger,
    LedgerWrites writes,
    SymbolLocks locks,
    InstrumentDirectory instruments,
    FillRecorder fills,
    VenueFillHistory history,
    SizeRepair sizes,
    ProtectionRepair protection,
    LeverageRepair leverage,
    MismatchReporter report,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>
    /// The symbols reconciliation left alone (not booked here) and reported, each with its report's stamp (the UTC day and
    /// what was held), so that a symbol is reported once a day while it holds the same (<see cref="ReconcileSymbolAsync"/>).
    /// </summary>
    private readonly ConcurrentDictionary<string, string> _leftAloneReported = new(StringComparer.Ordinal);

    /// <summary>The UTC day (yyyyMMdd) hedge mode was last reported on, so that it is reported once a day (ReconcileAsync).</summary>
    private string? _hedgeModeReported;

    /// <summary>The strategy of a record the reconciliation adopted from the venue, without the fills that built it.</summary>
    public const string AdoptedStrategy = "reconciled";

    /// <summary>The strategy of a record the reconciliation adopted from the venue with the venue's fills that built it.</summary>
    public const string AdoptedWithFillsStrategy = "reconciled-with-fills";

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

        // The mode first, alone: in hedge mode the listings below would be read for nothing (the all-symbol conditional
        // orders cost 40 of the IP's weight a minute).
        if (await venue.GetPositionModeAsync(cancellationToken).ConfigureAwait(false) == PositionMode.Hedge)
        {
            // Hedge mode: a symbol may hold a long and a short at once, every order must name its side, and the rows read
            // here are per side. Nothing here is built for it; comparing would misread the account, and every order this
            // service sends would be refused (-4061). The pass fails (no repair), opening is refused, the operator is told
            // once a UTC day (the risk event; the failed pass is logged as every failed pass is).
            var day = time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            if (!string.Equals(_hedgeModeReported, day, StringComparison.Ordinal))
            {
                await report.ReportAsync("hedge-mode", "", HedgeModeException.Text, day, cancellationToken, LedgerV1.RiskEventSeverity.Critical)
                    .ConfigureAwait(false);
                _hedgeModeReported = day;
            }

            throw new HedgeModeException();
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

        // A symbol left alone and no longer held is forgotten: held again later the same day, it is reported again.
        foreach (var reported in _leftAloneReported.Keys)
        {
            if (symbols.BinarySearch(reported, StringComparer.Ordinal) < 0)
            {
                _leftAloneReported.TryRemove(reported, out _);
            }
        }

        var mismatches = 0;
        List<Exception>? failures = null;
        foreach (var symbol in symbols)
        {
            try
            {
                using var held = await locks.AcquireAsync(symbol, cancellationToken).ConfigureAwait(false);
                // Under the symbol's lock (a close waits on it) and restoring protection: urgent at the venue's limits.
                using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
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
        var positions = await positionsTask.ConfigureAwait(false);
        if (positions.Any(p => p.PositionSide != "BOTH"))
        {
            // A LONG or SHORT row: the account went to hedge mode since the pass read it (see ReconcileAsync).
            throw new HedgeModeException();
        }

        var open = positions.FirstOrDefault(p => p.PositionAmt != 0m);
        var conditional = await conditionalTask.ConfigureAwait(false);
        var record = await recordTask.ConfigureAwait(false);
        var stamp = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var mismatches = 0;

        if (record is null && (open is not null || conditional.Count > 0)
            && await instruments.NotBookedHereAsync(symbol, ct).ConfigureAwait(false) is { } notOurs)
        {
            // A position or orders on a contract this system does not book (a USDC-margined perpetual or a delivery
            // contract, opened by hand): it is not adopted and its orders are not cancelled; the operator's to handle.
            // Before, a delivery contract's position failed every pass (its name is no symbol here), and the first pass
            // failing keeps Execution from opening anything. Reported once a UTC day for what is held (the risk event's
            // key: the day and the position's size, or the number of orders): the first pass logs the warning and writes
            // the event; the passes after it, while the symbol holds the same, log at debug level and write nothing
            // (before, the warning was logged every minute while the position stood). A position that changes on the
            // day is reported again.
            var day = time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            var held = open is null ? $"{conditional.Count} conditional order(s)" : $"a {Wire.Format(open.PositionAmt)} position";
            var dayAndHolding = day + ":" + (open is null ? conditional.Count.ToString(CultureInfo.InvariantCulture) + "-orders" : Wire.Format(open.PositionAmt));
            if (_leftAloneReported.TryGetValue(symbol, out var reported) && reported == dayAndHolding)
            {
                Log.LeftAloneStill(logger, symbol, held);
                return 0;
            }

            await report.ReportAsync("not-traded-here", symbol, $"the venue holds {held} on {symbol}, left alone: {notOurs}", dayAndHolding, ct)
                .ConfigureAwait(false);
            _leftAloneReported[symbol] = dayAndHolding;
            return 0;
        }

        // The venue holds the record's other side now: the record was closed, and the other side opened, since.
        var flipped = record is not null && open is not null && ExecutionWire.SideOfSize(open.PositionAmt) != record.Side;
        if (record is not null && (open is null || flipped)
            && await history.VenueCloseAsync(symbol, record, ct, flipped ? Math.Abs(open!.PositionAmt) : 0m).ConfigureAwait(false) is { } venueClose)
        {
            // The venue closed it with its own order (a stop-loss or take-profit that triggered, a liquidation): record
            // that close as it happened, with its fills, fees and realized PnL, not at today's mark (nor, when the other
            // side stands now, at its mark: that position's own fills are newer, and are stepped over).
            mismatches++;
            var (order, closeFills, liquidation) = venueClose;
            // The venue's liquidation engine closing it is recorded as liquidated (the Ledger's status and the
            // PositionClosed event say so), and reported as critical, not as an ordinary close.
            var what = liquidation is null ? "closed it by its own order(s)" : $"liquidated it (order {liquidation})";
            // A liquidation's critical event is keyed by its order, not by the pass: should the Ledger refuse the close,
            // the passes that follow do not raise it again.
            await report.ReportAsync(liquidation is null ? "closed-at-venue" : "liquidated-at-venue", symbol,
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

            await report.ReportAsync("close-record", symbol, $"the Ledger's open {record.Side} record {record.PositionId} has no position at the venue; closed at {Wire.Format(price)}", stamp, ct)
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
            record = await sizes.AdoptAsync(symbol, open, conditional, stamp, ct).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Opened, record, open.MarkPrice);
        }
        else if (open is not null && record is not null)
        {
            mismatches += await sizes.BookSizeDifferenceAsync(symbol, open, record, stamp, ct).ConfigureAwait(false);
            mismatches += await protection.RestoreProtectionAsync(symbol, open, record, conditional, stamp, ct).ConfigureAwait(false);
            // Last: the record's leverage is bookkeeping, and its repair failing must not keep a stop-loss from being restored.
            mismatches += await leverage.AmendLeverageAsync(symbol, open, record, stamp, ct).ConfigureAwait(false);
        }

        // Only protective orders are orphans (closePosition or reduce-only: a stop-loss or take-profit of a position gone,
        // which would close the next position opened on the symbol). An order that opens (an entry stop or a resting
        // limit order placed by hand) is the operator's, and stays.
        var orphans = open is null ? conditional.Where(o => o.ClosePosition || o.ReduceOnly).ToList() : [];
        mismatches += await protection.CancelOrphansAsync(symbol, orphans, stamp, ct).ConfigureAwait(false);

        return mismatches;
    }

    /// <summary>How Binance's liquidation orders' client ids begin (USDⓈ-M user data stream, ORDER_TRADE_UPDATE; forceOrders).</summary>
    public const string LiquidationOrderPrefix = "autoclose-";
}
