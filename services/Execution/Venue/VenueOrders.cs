using System.Diagnostics;
using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.ServiceDefaults;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Venue;

/// <summary>Execution's market orders as they ended at the venue.</summary>
public static class VenueOrders
{
    /// <summary>How long an order the venue is still working is read again before the caller is told to retry.</summary>
    public static readonly TimeSpan EndWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstReadAfter = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestReadInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// <paramref name="order"/> once the venue has finished it. Binance answers a MARKET order's final state to a
    /// placement that asks for RESULT, but an order found by its client order id (a retry, or the client's look-up after
    /// an unknown outcome such as -1007 "execution status unknown") can still be NEW or PARTIALLY_FILLED while the
    /// matching engine works on it. Judged then, an open that filled a moment later was answered "not filled" (and its
    /// stop-loss never placed), and a close or reduce in part filled was booked at part of its size. Such an order is
    /// read again, with back-off, until it ends; one still working after <see cref="EndWait"/> is UNAVAILABLE, and a retry
    /// of the caller's with the same client order id resumes it. The caller holds the symbol's lock throughout.
    /// </summary>
    /// <param name="orStillWorking">
    /// For an order of Execution's own no retry resumes (a close at once, reconciliation's): answered as last read once
    /// <see cref="EndWait"/> has passed, so the caller treats it as not (or not wholly) filled, as it does an order the
    /// book could not fill, instead of throwing.
    /// </param>
    public static async Task<OrderInfo> EndedAsync(IBinanceClient venue, OrderInfo order, CancellationToken ct, bool orStillWorking = false)
    {
        ArgumentNullException.ThrowIfNull(venue);
        ArgumentNullException.ThrowIfNull(order);
        if (!Working(order))
        {
            return order;
        }

        var waited = Stopwatch.StartNew();
        var interval = FirstReadAfter;
        while (Working(order))
        {
            if (waited.Elapsed >= EndWait)
            {
                if (orStillWorking)
                {
                    return order;
                }

                throw new RpcException(new Status(StatusCode.Unavailable,
                    $"order: the venue is still working {order.Symbol} order {order.ClientOrderId} (status {order.Status}, " +
                    $"{Wire.Format(order.ExecutedQty)} of {Wire.Format(order.OrigQty)} filled after {EndWait.TotalSeconds:0} s); " +
                    "retry with the same client_order_id to resume it"));
            }

            await Task.Delay(interval, ct).ConfigureAwait(false);
            // An order the venue no longer finds keeps the last state read (it was found a moment ago; the caller judges it).
            order = await venue.GetOrderAsync(order.Symbol, order.ClientOrderId, ct).ConfigureAwait(false) ?? order;
            interval = Backoff.Doubled(interval, LongestReadInterval);
        }

        return order;
    }

    private static bool Working(OrderInfo order) => order.Status is OrderStatus.New or OrderStatus.PartiallyFilled;
}
