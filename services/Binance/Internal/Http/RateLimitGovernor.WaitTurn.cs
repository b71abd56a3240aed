using TradeEngine.Binance.Errors;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal.Http;

// RateLimitGovernor's wait for a request's turn: a back-off, then its priority's share of each limit, within its hold limit.
internal sealed partial class RateLimitGovernor
{
    /// <summary>
    /// Waits until a request of this weight fits its priority's share (one of the funding routes: until it fits their own
    /// limit); throws when the wait would exceed the configured maximum.
    /// </summary>
    /// <param name="holdLimit">
    /// The longest this request may be held in all (<see cref="VenueHoldLimit"/>): each wait it meets (a back-off, then a
    /// share used up, then another) counts against it, and a wait that would take it past the limit is refused at once,
    /// not sent. Null: as long as the window, or a back-off up to the configured maximum.
    /// </param>
    public async Task WaitTurnAsync(
        int weight, bool isOrder, string endpoint, CancellationToken ct, bool fundingRoute = false, VenuePriority priority = VenuePriority.Normal,
        TimeSpan? holdLimit = null)
    {
        var usage = UsageOf(priority);
        string? heldBy = null;
        var heldSince = 0L;
        while (true)
        {
            TimeSpan delay;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                // What this request may still be held: the waits it has been through already count.
                var mayWait = holdLimit - (heldSince == 0 ? TimeSpan.Zero : _time.GetElapsedTime(heldSince));
                var blockedUntil = fundingRoute && _fundingBlockedUntil > _blockedUntil ? _fundingBlockedUntil : _blockedUntil;
                if (now < blockedUntil)
                {
                    var ban = blockedUntil == _blockedUntil && _blockedStatus == 418;
                    if (blockedUntil - now > _maxWait || ban || blockedUntil - now > mayWait)
                    {
                        var reason = ban ? "ban" : blockedUntil - now > _maxWait ? "back_off" : "hold_limit";
                        VenueRateMetrics.Refused(endpoint, reason, priority);
                        var status = blockedUntil == _blockedUntil ? _blockedStatus : 429;
                        throw reason == "hold_limit"
                            ? new BinanceRateLimitException(status, blockedUntil, endpoint,
                                $"not sent: backing off after an HTTP {status} for {(blockedUntil - now).TotalSeconds:0.#} s, longer than this request may wait ({MayWaitText(mayWait!.Value)})")
                            { RetryAfter = blockedUntil - now }
                            : new BinanceRateLimitException(status, blockedUntil, endpoint) { RetryAfter = blockedUntil - now };
                    }

                    delay = blockedUntil - now;
                    heldBy ??= "back_off";
                }
                else
                {
                    var server = _serverNow();
                    var weightDelay = weight > 0 ? _weight.DelayFor(weight, server, usage) : TimeSpan.Zero;
                    var orderDelay = isOrder ? Max(_orders10s.DelayFor(1, server, usage), _orders1m.DelayFor(1, server, usage), TimeSpan.Zero) : TimeSpan.Zero;
                    var fundingDelay = fundingRoute ? _funding.DelayFor(1, server, usage) : TimeSpan.Zero;
                    if (fundingDelay > _maxWait)
                    {
                        // The funding routes' share is used up for up to 5 minutes: refused now, not after the wait.
                        VenueRateMetrics.Refused(endpoint, "funding_share", priority);
                        throw new BinanceRateLimitException(429, now + fundingDelay, endpoint,
                            $"not sent: this client's share of the funding routes' limit ({Math.Max(1, (int)(_funding.Limit * usage))} of {_funding.Limit} requests per 5 minutes, {VenueRequestPriority.ToWire(priority)} priority) is used up")
                        { RetryAfter = fundingDelay };
                    }

                    delay = Max(weightDelay, orderDelay, fundingDelay);
                    var limit = delay == weightDelay ? "weight" : delay == orderDelay ? "orders" : "funding";
                    if (delay > TimeSpan.Zero && delay > mayWait)
                    {
                        // Waiting for the share would hold up what this flow holds (a symbol's lock): refused now, not sent.
                        VenueRateMetrics.Refused(endpoint, "hold_limit", priority);
                        throw new BinanceRateLimitException(429, now + delay, endpoint,
                            $"not sent: this client's {VenueRequestPriority.ToWire(priority)} share of the {limit} limit is used up for {delay.TotalSeconds:0.#} s, longer than this request may wait ({MayWaitText(mayWait!.Value)})")
                        { RetryAfter = delay };
                    }

                    if (delay <= TimeSpan.Zero)
                    {
                        _weight = _weight.Count(weight, server);
                        if (isOrder)
                        {
                            _orders10s = _orders10s.Count(1, server);
                            _orders1m = _orders1m.Count(1, server);
                        }

                        if (fundingRoute)
                        {
                            _funding = _funding.Count(1, server);
                        }

                        if (heldBy is not null)
                        {
                            VenueRateMetrics.Held(endpoint, heldBy, priority, _time.GetElapsedTime(heldSince));
                        }

                        return;
                    }

                    heldBy ??= limit;
                }

                if (heldSince == 0)
                {
                    heldSince = _time.GetTimestamp();
                }
            }

            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }
    }

    private static string MayWaitText(TimeSpan mayWait) => $"{Math.Max(0, mayWait.TotalSeconds):0.#} s";

    private static TimeSpan Max(TimeSpan a, TimeSpan b, TimeSpan c) => a > b ? (a > c ? a : c) : (b > c ? b : c);
}
