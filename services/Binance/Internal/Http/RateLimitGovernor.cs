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
internal sealed partial class RateLimitGovernor
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
}
