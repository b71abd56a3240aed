using System.Globalization;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// The venue's fills as reconciliation reads them back: the close the venue made of a record, and the fills that built
/// an adopted position or made a size difference, each found as the latest fills adding up exactly to a quantity.
/// </summary>
public sealed class VenueFillHistory(IBinanceClient venue, LedgerBook ledger)
{
    /// <summary>
    /// The venue's own close of <paramref name="record"/>: its latest fills on the symbol, all on the closing side, that
    /// add up exactly to the record's open quantity (fills are whole, and anything Execution itself reduced came
    /// before them). Read from the record's opening (at most the venue's 7-day window). Null when they do not add up,
    /// or the window is full: then the record is closed at the mark as before, and the risk event says so.
    /// <c>Liquidation</c> is the client order id of the venue's liquidation order among them, if one is: Binance gives its
    /// liquidation orders ids starting "autoclose-" (ADL's "adl_autoclose" is a deleveraging, not a liquidation of ours).
    /// </summary>
    /// <param name="opened">
    /// The size of the position the venue holds now on the record's other side (zero when it is flat): the record was
    /// closed and the other side opened since (a stop-loss, then an open by hand, or one whose record the Ledger refused).
    /// Its opening fills are on the record's closing side too, and the newest: they are stepped over first (whole fills
    /// making exactly that size), and the fills before them must make the record's close. Before, such a record was
    /// closed at the mark of the new position, without fees.
    /// </param>
    public async Task<(OrderInfo Order, OrderFills Fills, string? Liquidation)?> VenueCloseAsync(
        string symbol, LedgerV1.PositionRecord record, CancellationToken ct, decimal opened = 0m)
    {
        const int Limit = 1000;
        var now = await venue.GetServerTimeAsync(ct).ConfigureAwait(false);
        var since = record.OpenedAt?.ToDateTimeOffset() ?? now;
        var earliest = now - TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1);
        var trades = await venue.GetUserTradesAsync(new UserTradesQuery(symbol, StartTime: since > earliest ? since : earliest, Limit: Limit), ct)
            .ConfigureAwait(false);
        if (trades.Count >= Limit)
        {
            return null;
        }

        var closing = record.Side == Common.V1.Side.Long ? OrderSide.Sell : OrderSide.Buy;
        if (LatestFillsMaking(trades, closing, Wire.Decimal(record.Quantity, "quantity"), skipNewest: opened) is not { } picked)
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

        var liquidation = clientOrderIds.Values.FirstOrDefault(id => id.StartsWith(Reconciler.LiquidationOrderPrefix, StringComparison.Ordinal));
        return (order, OrderFills.Of(picked, clientOrderIds), liquidation);
    }

    /// <summary>
    /// The venue's latest fills on <paramref name="symbol"/>, all on <paramref name="side"/>, that add up exactly to
    /// <paramref name="quantity"/> (see <see cref="LatestFillsMaking"/>), read back from <paramref name="since"/> within
    /// the venue's 7-day window, each with its order's client id: the fills that built an adopted position, or that made
    /// a size difference. Null when they do not add up (a position built and then partly reduced, say), or are more than
    /// the window or one Ledger request holds.
    /// </summary>
    public async Task<IReadOnlyList<LedgerV1.Fill>?> LatestVenueFillsAsync(
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

        return picked.Select(t => OrderFills.LedgerFill(t, clientIds[t.OrderId])).ToList();
    }

    /// <summary>
    /// The latest of <paramref name="trades"/>, all on <paramref name="side"/>, that add up exactly to
    /// <paramref name="quantity"/>, oldest first. Fills are whole, and the walk back from the newest stops at the first
    /// fill of the other side. Null when they do not add up. The newest fills making exactly <paramref name="skipNewest"/>
    /// (on the same side) are stepped over first; null when they do not make it exactly (one fill across both).
    /// </summary>
    private static List<UserTrade>? LatestFillsMaking(IEnumerable<UserTrade> trades, OrderSide side, decimal quantity, decimal skipNewest = 0m)
    {
        var picked = new List<UserTrade>();
        var sum = 0m;
        var skipped = 0m;
        foreach (var trade in trades.OrderByDescending(t => t.Time).ThenByDescending(t => t.Id))
        {
            if (trade.Side != side || sum >= quantity)
            {
                break;
            }

            if (skipped < skipNewest)
            {
                skipped += trade.Qty;
                if (skipped > skipNewest)
                {
                    return null;
                }

                continue;
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
    public static decimal VolumeWeighted(IEnumerable<(decimal Price, decimal Quantity)> fills)
    {
        var (value, quantity) = fills.Aggregate((0m, 0m), (sum, f) => (sum.Item1 + f.Price * f.Quantity, sum.Item2 + f.Quantity));
        return Wire.RoundMoney(value / quantity);
    }
}
