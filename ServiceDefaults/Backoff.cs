namespace TradeEngine.ServiceDefaults;

/// <summary>Exponential back-off: the wait after one more failure.</summary>
public static class Backoff
{
    /// <summary><paramref name="current"/> doubled, at most <paramref name="longest"/>.</summary>
    public static TimeSpan Doubled(TimeSpan current, TimeSpan longest) => TimeSpan.FromTicks(Math.Min(current.Ticks * 2, longest.Ticks));
}
