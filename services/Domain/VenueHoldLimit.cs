namespace TradeEngine.Domain;

/// <summary>
/// The longest the venue client may hold back the requests made in the current asynchronous flow (an
/// <see cref="AsyncLocal{T}"/>) before they are sent, waiting for their share of a rate limit, for a back-off to pass or
/// for the clock sync; none (the default) lets each wait as long as the limit's window or
/// the venue client's longest back-off (<c>Binance:MaxRetryAfterWait</c>) says. The limit is a budget for the whole scope, not for each request:
/// every hold counts against it, and a request that would be held past what is left is refused at once, not sent
/// (the venue client's rate-limit refusal, "not sent"). For work that holds something others wait on: an open holding its
/// symbol's lock must not keep a margin call's close of that symbol waiting for the next minute while its own reads wait
/// for their share, one after another. The budget left travels with our gRPC calls (<see cref="HeaderName"/>), so a
/// service that reads the venue for such a caller (Funding's rate for an open's quote) holds it no longer either.
/// </summary>
public static class VenueHoldLimit
{
    /// <summary>The gRPC metadata key that carries the budget left, in whole milliseconds, between our services.</summary>
    public const string HeaderName = "x-venue-hold-ms";

    /// <summary>The largest budget the header may carry (10 minutes); anything larger is not a hold limit.</summary>
    public const long MaxWireMilliseconds = 600_000;

    private static readonly AsyncLocal<Budget?> Ambient = new();

    /// <summary>What the current scope's requests may still be held in all; null when they are not limited.</summary>
    public static TimeSpan? Current => Ambient.Value?.Left;

    /// <summary>
    /// Makes <paramref name="limit"/> the current budget until the scope is disposed (inside a limited scope: no more than
    /// the outer scope has left, and what is held counts against both); null: none, whatever the outer scope had.
    /// </summary>
    public static Scope Enter(TimeSpan? limit)
    {
        if (limit < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "a hold limit is not negative");
        }

        var previous = Ambient.Value;
        Ambient.Value = limit is { } value ? new Budget(value, previous) : null;
        return new Scope(previous);
    }

    /// <summary>Counts <paramref name="held"/> against the current budget and every budget it was entered inside.</summary>
    public static void Spend(TimeSpan held)
    {
        for (var budget = Ambient.Value; budget is not null; budget = budget.Outer)
        {
            budget.Spend(held);
        }
    }

    /// <summary>
    /// Marks the current flow held back (waiting for a rate limit's share, a back-off, a clock sync, or a collaborator's
    /// answer while holding what others wait on) until the result is disposed; the time counts against the current budget
    /// and every budget it was entered inside. Holds of one budget that overlap (requests of a flow made at once, each
    /// waiting) count once: the time any of them is held, not the sum. Without a budget, nothing.
    /// </summary>
    public static Holding Hold(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var budget = Ambient.Value;
        for (var b = budget; b is not null; b = b.Outer)
        {
            b.Begin(time);
        }

        return new Holding(budget);
    }

    /// <summary>A hold in progress (<see cref="Hold"/>); disposing it ends it.</summary>
    public readonly struct Holding : IDisposable
    {
        private readonly Budget? _budget;

        internal Holding(Budget? budget) => _budget = budget;

        public void Dispose()
        {
            for (var b = _budget; b is not null; b = b.Outer)
            {
                b.End();
            }
        }
    }

    /// <summary>The budget left as the header's value: whole milliseconds, rounded down (never more than is left).</summary>
    public static string ToWire(TimeSpan left) =>
        ((long)Math.Min(Math.Max(0, left.TotalMilliseconds), MaxWireMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses the header strictly: 1 to 6 ASCII digits, at most <see cref="MaxWireMilliseconds"/>; no sign, space, point
    /// or exponent.
    /// </summary>
    public static bool TryParseWire(string? text, out TimeSpan limit)
    {
        limit = default;
        if (string.IsNullOrEmpty(text) || text.Length > 6 || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        var ms = long.Parse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        if (ms > MaxWireMilliseconds)
        {
            return false;
        }

        limit = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Puts back the budget that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly Budget? _previous;

        internal Scope(Budget? previous) => _previous = previous;

        public void Dispose() => Ambient.Value = _previous;
    }

    /// <summary>
    /// One scope's budget: what is left, less the time of the hold in progress (the union of the flow's holds that
    /// overlap: counted from the first's start to the last's end).
    /// </summary>
    internal sealed class Budget(TimeSpan limit, Budget? outer)
    {
        private readonly Lock _gate = new();
        private long _leftTicks = limit.Ticks;
        private int _holding;
        private long _since;
        private TimeProvider? _time;

        public Budget? Outer { get; } = outer;

        public TimeSpan Left
        {
            get
            {
                long left;
                lock (_gate)
                {
                    left = _leftTicks - (_holding > 0 ? _time!.GetElapsedTime(_since).Ticks : 0);
                }

                var own = TimeSpan.FromTicks(Math.Max(0, left));
                return Outer is { } o && o.Left < own ? o.Left : own;
            }
        }

        public void Spend(TimeSpan held)
        {
            lock (_gate)
            {
                _leftTicks -= held.Ticks;
            }
        }

        public void Begin(TimeProvider time)
        {
            lock (_gate)
            {
                if (_holding++ == 0)
                {
                    _time = time;
                    _since = time.GetTimestamp();
                }
            }
        }

        public void End()
        {
            lock (_gate)
            {
                if (--_holding == 0)
                {
                    _leftTicks -= _time!.GetElapsedTime(_since).Ticks;
                }
            }
        }
    }
}
