namespace TradeEngine.PaperExchange.Venue;

/// <summary>
/// Request weight and order counts per fixed window of simulated time, as Binance reports them in headers, and the
/// requests of the funding routes (GET fundingRate and fundingInfo share 500 per 5 minutes per IP and weigh nothing on the
/// IP's request weight), which Binance does not report.
/// </summary>
public sealed class RateCounters
{
    private readonly Lock _lock = new();
    private long _weightWindow = -1;
    private int _weight;
    private long _orders10sWindow = -1;
    private int _orders10s;
    private long _orders1mWindow = -1;
    private int _orders1m;
    private long _fundingWindow = -1;
    private int _funding;

    public (int Weight, int Orders10s, int Orders1m, long RetryAfterMs) Count(long nowMs, int weight, bool isOrder)
    {
        lock (_lock)
        {
            Roll(ref _weightWindow, ref _weight, nowMs / 60_000);
            _weight += weight;
            if (isOrder)
            {
                Roll(ref _orders10sWindow, ref _orders10s, nowMs / 10_000);
                Roll(ref _orders1mWindow, ref _orders1m, nowMs / 60_000);
                _orders10s++;
                _orders1m++;
            }

            return (_weight, _orders10s, _orders1m, 60_000 - (nowMs % 60_000));
        }
    }

    /// <summary>Counts one request of the funding routes in its 5-minute window: that window's count, and ms until it ends.</summary>
    public (int Used, long RetryAfterMs) CountFunding(long nowMs)
    {
        lock (_lock)
        {
            Roll(ref _fundingWindow, ref _funding, nowMs / FundingWindowMs);
            _funding++;
            return (_funding, FundingWindowMs - (nowMs % FundingWindowMs));
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _weightWindow = _orders10sWindow = _orders1mWindow = _fundingWindow = -1;
            _weight = _orders10s = _orders1m = _funding = 0;
        }
    }

    private const long FundingWindowMs = 5 * 60_000;

    private static void Roll(ref long window, ref int count, long current)
    {
        if (window != current)
        {
            window = current;
            count = 0;
        }
    }
}
