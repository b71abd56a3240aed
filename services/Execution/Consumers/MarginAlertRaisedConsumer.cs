using System.Globalization;
using MassTransit;
using TradeEngine.Binance;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Positions;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.Venue;
using TradeEngine.Messaging.Inbox;
using TradeEngine.Risk.V1;

namespace TradeEngine.Execution.Consumers;

/// <summary>
/// The plan's margin responses. Reduce: halve the largest position by notional at mark (Domain's choice, rounded
/// down to the step); or, when the alert names an isolated position (its own margin raised it), close that one: halving
/// another does nothing for its margin, and halving it would not move its ratio (the venue releases its margin in
/// proportion). Liquidate all: the emergency close-all, kill switch included. The venue client order ids derive
/// from the event id, so even a redelivery the inbox did not catch (a crash between acting and recording) finds the
/// orders it already placed instead of acting twice; a redelivered reduce is finished on the symbol it was placed on,
/// not planned again (the largest position may be another one by then), unless it filled nothing (below).
/// </summary>
/// <remarks>
/// An order the venue ended without filling anything (a market order that met an empty book expires) has done
/// nothing, so the next delivery plans again under the next attempt's id, up to <see cref="MaxOrderAttempts"/>. Before,
/// every redelivery found that spent order under the alert's one id and failed on it, and the alert went to the error
/// queue unacted on while the monitor, which alerts once per change of state (and raises Reduce again only once the
/// positions have changed), raised no other. A reduce alert whose last
/// delivery fails, for whatever reason, logs a critical <c>margin_reduce_failed</c> risk event before it goes to the error
/// queue: the operator must know that a margin call was not acted on.
/// </remarks>
public sealed class MarginAlertRaisedConsumer(
    IInbox inbox,
    IBinanceClient venue,
    InstrumentDirectory instruments,
    ClosePositionHandler closer,
    CloseAllHandler closeAll,
    Ledger.LedgerBook ledger,
    ILogger<MarginAlertRaisedConsumer> logger) : InboxConsumer<MarginAlertRaised>(inbox, logger)
{
    /// <summary>How many orders one alert may place in all when each ends unfilled (the endpoint retries a failed delivery four times).</summary>
    public const int MaxOrderAttempts = 5;

    /// <summary>
    /// The latest order an earlier delivery of this alert placed, if any, with its attempt number: looked up under the
    /// alert's key, attempt by attempt until one finds nothing, on every symbol the
    /// venue holds a position on, every symbol the Ledger still has open (a close whose recording failed left the
    /// venue flat there, but not the Ledger), and every symbol whose record was closed since the alert (a small
    /// position closed, and recorded, by a delivery that died before its inbox entry was completed).
    /// </summary>
    private async Task<(Binance.Models.OrderInfo Order, bool IsReduce, int Attempt)?> EarlierAttemptAsync(
        string key, DateTimeOffset alertedAt, List<Binance.Models.PositionRisk> positions, CancellationToken ct)
    {
        IEnumerable<string> recorded;
        try
        {
            var openTask = ledger.OpenRecordsAsync(ct);
            var closedTask = ledger.SymbolsClosedSinceAsync(alertedAt.AddMinutes(-1), ct);
            recorded = (await openTask.ConfigureAwait(false)).Select(r => r.Symbol).Concat(await closedTask.ConfigureAwait(false)).ToList();
        }
        catch (global::Grpc.Core.RpcException ex) when (Ledger.LedgerWrites.IsTransient(ex))
        {
            // The Ledger being down must not hold up a margin response: the venue's symbols are where a reduce sits.
            recorded = [];
        }

        var symbols = positions.Select(p => p.Symbol).Concat(recorded).Distinct(StringComparer.Ordinal).ToList();
        (Binance.Models.OrderInfo Order, bool IsReduce, int Attempt)? latest = null;
        for (var attempt = 1; attempt <= MaxOrderAttempts; attempt++)
        {
            var reduces = symbols.Select(symbol => venue.GetOrderAsync(symbol, ReduceId(key, attempt), ct)).ToList();
            var closes = symbols.Select(symbol => venue.GetOrderAsync(symbol, CloseId(key, attempt), ct)).ToList();
            var reduce = (await Task.WhenAll(reduces).ConfigureAwait(false)).FirstOrDefault(o => o is not null);
            var close = (await Task.WhenAll(closes).ConfigureAwait(false)).FirstOrDefault(o => o is not null);
            if (reduce is null && close is null)
            {
                break;
            }

            latest = reduce is not null ? (reduce, true, attempt) : (close!, false, attempt);
        }

        return latest;
    }

    /// <summary>An order the venue has finished with (expired, cancelled, rejected) that filled nothing: it did nothing.</summary>
    private static bool SpentUnfilled(Binance.Models.OrderInfo order) =>
        order.ExecutedQty <= 0m && Mapping.ExecutionWire.EndedUnfilled(order);

    /// <summary>
    /// The small largest position's close. One the venue filled only in part has still reduced it, which is what the
    /// alert asked: that is the answer (a redelivery would only meet the same partial order again).
    /// </summary>
    private async Task CloseSmallAsync(string symbol, string key, int attempt, string reason = "Margin alert: reduce (position below two steps)")
    {
        try
        {
            await closer.CloseSymbolAsync(symbol, CloseId(key, attempt), reason).ConfigureAwait(false);
        }
        catch (CloseIncompleteException ex) when (ex.StatusCode is global::Grpc.Core.StatusCode.Aborted or global::Grpc.Core.StatusCode.AlreadyExists)
        {
            Log.SmallCloseIncomplete(logger, symbol, ex.Status.Detail);
        }
    }

    /// <summary>Why a margin alert's close closes: the position it names (an isolated one), or the largest, too small to halve.</summary>
    private static string CloseReason(MarginAlertRaised alert) => alert.Symbol is { } isolated
        ? $"Margin alert: close the isolated {isolated} position (its own margin)"
        : "Margin alert: reduce (position below two steps)";

    // The reduce and the small-position close have ids of their own, so a redelivery knows which one it finds; the first
    // attempt's ids are the ones every earlier version used.
    public static string ReduceId(string key, int attempt = 1) => AttemptId(key, "reduce", attempt);

    public static string CloseId(string key, int attempt = 1) => AttemptId(key, "close", attempt);

    private static string AttemptId(string key, string purpose, int attempt) =>
        Mapping.ExecutionWire.Derived(key, attempt == 1 ? purpose : purpose + attempt.ToString(CultureInfo.InvariantCulture));

    protected override async Task ConsumeOnce(ConsumeContext<MarginAlertRaised> context)
    {
        // A margin response takes risk off: its venue requests are held back only by the venue's own limits.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        var alert = context.Message;
        var key = "ma-" + alert.EventId.ToString("N", CultureInfo.InvariantCulture);
        Log.MarginAlert(logger, alert.EventId, alert.Action.ToString(), alert.MarginRatio?.ToString(CultureInfo.InvariantCulture) ?? "none");
        if (alert.Action == MarginAlertAction.LiquidateAll)
        {
            var result = await closeAll.FlattenAsync(key, "Margin call: " + alert.Reason, CloseAllHandler.Actor, KillSwitchTrigger.LiquidateAll)
                .ConfigureAwait(false);
            CloseAllHandler.ThrowIfIncomplete(result, key, killSwitchRequired: true);
            return;
        }

        try
        {
            await ReduceAsync(alert, key, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not MarginResponseFailedException && IsLastDelivery(context, ex))
        {
            await ledger.LogRiskEventAsync("margin-failed:" + key, "margin_reduce_failed", TradeEngine.Ledger.V1.RiskEventSeverity.Critical,
                $"Margin alert {alert.EventId}: its last delivery failed ({ex.Message}); the position was not reduced", null, context.CancellationToken)
                .ConfigureAwait(false);
            throw;
        }
    }

    private async Task ReduceAsync(MarginAlertRaised alert, string key, CancellationToken cancellationToken)
    {
        var positions = (await venue.GetPositionsAsync(null, cancellationToken).ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).ToList();
        var attempt = 1;
        if (await EarlierAttemptAsync(key, alert.OccurredAt, positions, cancellationToken).ConfigureAwait(false) is { } earlier)
        {
            var (placed, isReduce, placedAttempt) = earlier;
            if (!SpentUnfilled(placed))
            {
                // A redelivery after this alert's order was placed (a later step failed): finish that order, on its
                // symbol. Planning again would pick the largest position as it is now, which may be another symbol.
                Log.Resuming(logger, placed.Symbol, key, placed.Status.ToString());
                if (isReduce)
                {
                    await closer.ReduceSymbolAsync(placed.Symbol, ReduceId(key, placedAttempt), fraction: null, quantity: placed.OrigQty,
                        "Margin alert: reduce the largest position by half").ConfigureAwait(false);
                }
                else
                {
                    await CloseSmallAsync(placed.Symbol, key, placedAttempt, CloseReason(alert)).ConfigureAwait(false);
                }

                return;
            }

            // That order did nothing: plan again, as the first delivery did, under the next attempt's id.
            if (placedAttempt >= MaxOrderAttempts)
            {
                await GiveUpAsync(alert, key, placed.Symbol, placed.Status.ToString(), cancellationToken).ConfigureAwait(false);
            }

            Log.MarginOrderUnfilled(logger, placed.Symbol, placedAttempt, placed.Status.ToString());
            attempt = placedAttempt + 1;
        }

        var candidates = new List<MarkedPosition>(positions.Count);
        var marketLimits = new List<(decimal Min, decimal Max)>(positions.Count);
        List<string>? leftAlone = null;
        foreach (var p in positions)
        {
            var instrument = await instruments.FindAsync(p.Symbol, cancellationToken).ConfigureAwait(false);
            if (InstrumentDirectory.NotBookedHere(p.Symbol, instrument) is not null)
            {
                // A position this system does not book (a USDC-margined perpetual or a delivery contract, held by hand)
                // is not in the USDT margin the alert is about, and reconciliation leaves it alone: not the one to halve.
                (leftAlone ??= []).Add(p.Symbol);
                continue;
            }

            if (alert.Symbol is { } target && !string.Equals(p.Symbol, target, StringComparison.Ordinal))
            {
                // The alert names an isolated position whose own margin raised it: that one is halved, not the largest.
                continue;
            }

            candidates.Add(new MarkedPosition(new Symbol(p.Symbol), p.PositionAmt, p.MarkPrice, instrument?.Filters.StepSize ?? 0.001m, instrument?.Filters.MinQty ?? 0m));
            // The market maximum on the lot's grid (from LOT_SIZE's minimum, as the reduce checks it): what a reduce above it takes.
            marketLimits.Add(instrument is null ? (0m, 0m) : (instrument.Filters.MarketMinQty, instrument.Filters.FloorToStep(instrument.Filters.MarketMaxQty)));
        }

        var marked = candidates.ToArray();

        if (!ReducePlanner.TryChooseReduceByHalf(marked, out var order))
        {
            if (leftAlone is not null)
            {
                // The alert asked for a reduce and the venue holds positions, none of them this system's: the operator
                // is told (a margin call left unanswered), not an information line that says there is nothing open.
                var symbols = string.Join(", ", leftAlone);
                var reason = $"Margin alert {alert.EventId}: nothing reduced; the only open positions are on contracts this system does not book ({symbols})";
                Log.NothingOfOursToReduce(logger, alert.EventId, symbols);
                await ledger.LogRiskEventAsync("margin-none-of-ours:" + key, "margin_reduce_failed", TradeEngine.Ledger.V1.RiskEventSeverity.Critical,
                    reason, null, cancellationToken).ConfigureAwait(false);
                return;
            }

            // Nothing open (or the isolated position the alert named is closed already): nothing to halve.
            Log.NothingToReduce(logger, alert.EventId);
            return;
        }

        var size = Math.Abs(marked[order.Index].SignedSize);
        // MARKET_LOT_SIZE binds the reduce's market order (the plan halves by LOT_SIZE). A half below its minimum, or one
        // that would leave less than it, is not a reduce a market order can make, nor one that leaves what a market order
        // can close: the position is closed whole. A half above its maximum is reduced by the maximum. Before, the reduce
        // was refused for either every delivery, and the margin call went unanswered.
        var (marketMin, marketMax) = marketLimits[order.Index];
        var quantity = marketMax > 0m && order.Quantity > marketMax ? marketMax : order.Quantity;
        try
        {
            if (quantity >= size || quantity < marketMin || size - quantity < marketMin || alert.Symbol is not null)
            {
                await CloseSmallAsync(order.Symbol.Value, key, attempt, CloseReason(alert)).ConfigureAwait(false);
                return;
            }

            await closer.ReduceSymbolAsync(order.Symbol.Value, ReduceId(key, attempt), fraction: null, quantity: quantity,
                "Margin alert: reduce the largest position by half").ConfigureAwait(false);
        }
        catch (CloseIncompleteException ex) when (ex.StatusCode == global::Grpc.Core.StatusCode.FailedPrecondition && attempt >= MaxOrderAttempts)
        {
            // The last attempt filled nothing either: the endpoint has no retry left to try again.
            await GiveUpAsync(alert, key, order.Symbol.Value, ex.Status.Detail, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every attempt ended unfilled: a critical risk event for the operator, and the alert goes to the error queue.</summary>
    private async Task GiveUpAsync(MarginAlertRaised alert, string key, string symbol, string last, CancellationToken ct)
    {
        var reason = $"Margin alert {alert.EventId}: {MaxOrderAttempts} orders on {symbol} filled nothing (the last: {last}); the position was not reduced";
        await ledger.LogRiskEventAsync("margin-unfilled:" + key, "margin_reduce_failed", TradeEngine.Ledger.V1.RiskEventSeverity.Critical, reason, symbol, ct)
            .ConfigureAwait(false);
        throw new MarginResponseFailedException(reason);
    }
}

/// <summary>A margin alert given up on, its critical risk event already logged.</summary>
public sealed class MarginResponseFailedException(string message) : Exception(message);
