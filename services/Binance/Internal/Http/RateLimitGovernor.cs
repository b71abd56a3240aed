using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal.Http;

/// <summary>
/// Keeps the client under the limits exchangeInfo states, from the usage the venue reports in
/// <c>X-MBX-USED-WEIGHT-1M</c> and <c>X-MBX-ORDER-COUNT-10S/1M</c>, plus what this client sent since;
/// and after a 429/418 holds every request back until <c>Retry-After</c> has passed.
/// </summary>
/// <remarks>
/// A request of weight 0 (a new order: Binance counts it on the order counts only) is not held back by the IP's request
/// weight, so another process's reads on the same IP using up the weight do not delay the order itself (a close's own
/// reads are weighted: urgent, they wait only at the limit itself). The funding routes (GET
/// fundingRate and fundingInfo) weigh nothing either and share their own limit (Binance: 500 requests per 5 minutes per
/// IP), which the venue reports in no header: this client counts its own requests against its share of it, and a 429
/// on one of them holds back only the funding routes (unless the venue reports the IP's weight over its limit; a 418,
/// a ban, holds back everything).
/// <para>
/// Each request's share of a limit follows its <see cref="VenuePriority"/> (<see cref="VenueRequestPriority.Current"/>
/// when it is sent): a background request waits once the venue's count reaches the background share, a normal one at the
/// client's share, and an urgent one (a close, a reduce, the margin monitor's read) only at the limit itself, where the
/// venue would refuse it anyway. So reads nobody waits on stop first, and what takes risk off is never held back by our
/// headroom. A back-off after a 429 or a ban holds back every priority alike.
/// </para>
/// </remarks>
internal sealed class RateLimitGovernor
{
    private readonly TimeProvider _time;
    private readonly Func<DateTimeOffset> _serverNow;
    private readonly TimeSpan _maxWait;
    private readonly double _usage;
    private readonly double _backgroundUsage;
    private readonly Lock _lock = new();
    private Window _weight = new(TimeSpan.FromMinutes(1), 2400);
    private Window _orders10s = new(TimeSpan.FromSeconds(10), 300);
    private Window _orders1m = new(TimeSpan.FromMinutes(1), 1200);
    private Window _funding;
    private DateTimeOffset _blockedUntil = DateTimeOffset.MinValue;
    private int _blockedStatus;
    private DateTimeOffset _fundingBlockedUntil = DateTimeOffset.MinValue;

    public RateLimitGovernor(
        TimeProvider time, Func<DateTimeOffset> serverNow, TimeSpan maxWait, double usage, int fundingRouteLimit = 500, double? backgroundUsage = null)
    {
        _time = time;
        _serverNow = serverNow;
        _maxWait = maxWait;
        _usage = usage;
        // Background work never gets a larger share than the work callers wait on.
        _backgroundUsage = Math.Min(backgroundUsage ?? usage, usage);
        _funding = new Window(TimeSpan.FromMinutes(5), fundingRouteLimit);
    }

    public DateTimeOffset BlockedUntil
    {
        get
        {
            lock (_lock)
            {
                return _blockedUntil;
            }
        }
    }

    /// <summary>
    /// How long a weighted read (not an order, not a funding route) of this priority would be held now: a back-off or its
    /// share of the weight. Nothing is counted.
    /// </summary>
    public TimeSpan HoldFor(int weight, VenuePriority priority)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (now < _blockedUntil)
            {
                return _blockedUntil - now;
            }

            var delay = _weight.DelayFor(weight, _serverNow(), UsageOf(priority));
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }
    }

    public void ApplyLimits(IEnumerable<RateLimit> limits)
    {
        lock (_lock)
        {
            foreach (var l in limits)
            {
                if (l.Type == "REQUEST_WEIGHT" && l.Window == TimeSpan.FromMinutes(1))
                {
                    _weight = _weight with { Limit = l.Limit };
                }
                else if (l.Type == "ORDERS" && l.Window == TimeSpan.FromSeconds(10))
                {
                    _orders10s = _orders10s with { Limit = l.Limit };
                }
                else if (l.Type == "ORDERS" && l.Window == TimeSpan.FromMinutes(1))
                {
                    _orders1m = _orders1m with { Limit = l.Limit };
                }
            }
        }
    }

    /// <summary>The share of each limit a request of this priority may use.</summary>
    public double UsageOf(VenuePriority priority) => priority switch
    {
        VenuePriority.Background => _backgroundUsage,
        VenuePriority.Urgent => 1.0,
        _ => _usage,
    };

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

    /// <summary>Whether a reported IP weight is over the weight limit itself (not only this client's share of it).</summary>
    public bool IsOverWeightLimit(int? usedWeight1m)
    {
        lock (_lock)
        {
            return usedWeight1m > _weight.Limit;
        }
    }

    /// <summary>Takes the venue's own counts (they include other clients on the same IP).</summary>
    public void Observe(int? usedWeight1m, int? orders10s, int? orders1m)
    {
        lock (_lock)
        {
            var server = _serverNow();
            if (usedWeight1m is { } w)
            {
                _weight = _weight.Report(w, server);
            }

            if (orders10s is { } o10)
            {
                _orders10s = _orders10s.Report(o10, server);
            }

            if (orders1m is { } o1)
            {
                _orders1m = _orders1m.Report(o1, server);
            }
        }
    }

    /// <summary>
    /// Holds requests back until <paramref name="until"/>: every request, or only the funding routes when a 429 came from
    /// one of them (their own limit tripped; a 418 is a ban of the IP whatever the route).
    /// </summary>
    public void BackOff(int status, DateTimeOffset until, bool fundingRoute = false)
    {
        lock (_lock)
        {
            if (fundingRoute && status != 418)
            {
                if (until > _fundingBlockedUntil)
                {
                    _fundingBlockedUntil = until;
                }
            }
            else if (until > _blockedUntil)
            {
                _blockedUntil = until;
                _blockedStatus = status;
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b, TimeSpan c) => a > b ? (a > c ? a : c) : (b > c ? b : c);

    /// <summary>A fixed window aligned to the epoch, as Binance counts (the minute or the 10 seconds of server time).</summary>
    private readonly record struct Window(TimeSpan Length, int Limit, long Index = -1, int Used = 0)
    {
        private long IndexOf(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / (long)Length.TotalMilliseconds;

        private int UsedAt(DateTimeOffset t) => IndexOf(t) == Index ? Used : 0;

        public TimeSpan DelayFor(int cost, DateTimeOffset server, double usage)
        {
            var budget = Math.Max(1, (int)(Limit * usage));
            var used = UsedAt(server);
            // A request heavier than the whole budget would never fit: it goes alone, as the first of a fresh
            // window (the venue's own limit, above our headroom, decides), instead of waiting forever.
            if (used + cost <= budget || used == 0)
            {
                return TimeSpan.Zero;
            }

            var nextStart = (IndexOf(server) + 1) * (long)Length.TotalMilliseconds;
            return TimeSpan.FromMilliseconds(nextStart - server.ToUnixTimeMilliseconds() + 1);
        }

        public Window Count(int cost, DateTimeOffset server) => this with { Index = IndexOf(server), Used = UsedAt(server) + cost };

        public Window Report(int used, DateTimeOffset server) =>
            this with { Index = IndexOf(server), Used = Math.Max(used, UsedAt(server)) };
    }
}
