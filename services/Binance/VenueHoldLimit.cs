namespace TradeEngine.Binance;

/// <summary>
/// The longest the venue client may hold back a request made in the current asynchronous flow (an
/// <see cref="AsyncLocal{T}"/>) before it is sent, waiting for its share of a rate limit or for a back-off to pass; none
/// (the default) lets it wait as long as the limit's window or <see cref="BinanceOptions.MaxRetryAfterWait"/> says. A
/// request that would wait longer is refused at once, not sent (<see cref="Errors.BinanceRateLimitException"/>). For
/// work that holds something others wait on: an open holding its symbol's lock must not keep a margin call's close of
/// that symbol waiting for the next minute while its own reads wait for their share.
/// </summary>
public static class VenueHoldLimit
{
    private static readonly AsyncLocal<TimeSpan?> Ambient = new();

    public static TimeSpan? Current => Ambient.Value;

    /// <summary>Makes <paramref name="limit"/> (null: none) the current limit until the scope is disposed.</summary>
    public static Scope Enter(TimeSpan? limit)
    {
        if (limit < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "a hold limit is not negative");
        }

        var previous = Ambient.Value;
        Ambient.Value = limit;
        return new Scope(previous);
    }

    /// <summary>Puts back the limit that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly TimeSpan? _previous;

        internal Scope(TimeSpan? previous) => _previous = previous;

        public void Dispose() => Ambient.Value = _previous;
    }
}
