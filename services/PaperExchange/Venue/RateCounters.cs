namespace TradeEngine.PaperExchange.Venue;

/// <summary>Request weight and order counts per fixed window of simulated time, as Binance reports them in headers.</summary>
public sealed class RateCounters
{
    private readonly Lock _lock = new();
    private long _weightWindow = -1;
    private int _weight;
    private long _orders10sWindow = -1;
    private int _orders10s;
    private long _orders1mWindow = -1;
    private int _orders1m;

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

    public void Reset()
    {
        lock (_lock)
        {
            _weightWindow = _orders10sWindow = _orders1mWindow = -1;
            _weight = _orders10s = _orders1m = 0;
        }
    }

    private static void Roll(ref long window, ref int count, long current)
    {
        if (window != current)
        {
            window = current;
            count = 0;
        }
    }
}
