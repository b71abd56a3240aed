namespace TradeEngine.Domain;

/// <summary>
/// How urgently a request to the venue must go when the limits Binance sets per IP (which all our services share) run
/// short. The venue client allows each priority its own share of a limit: a background read stops first, a read someone
/// waits on next, and what takes risk off (a close, a reduce, the margin monitor's look at the account) only at the
/// venue's own limit.
/// </summary>
public enum VenuePriority
{
    /// <summary>Work nobody waits on (pollers, catalog refreshes): the smallest share (<c>Binance:BackgroundRateLimitUsage</c>).</summary>
    Background = 0,

    /// <summary>A caller waits on it (an open, a query, a check): the service's share (<c>Binance:RateLimitUsage</c>).</summary>
    Normal = 1,

    /// <summary>It takes risk off or watches for it: held back only by the venue's own limit, never by our headroom.</summary>
    Urgent = 2,
}

/// <summary>
/// The priority of the venue requests made in the current asynchronous flow (an <see cref="AsyncLocal{T}"/>):
/// <see cref="VenuePriority.Normal"/> unless a caller entered another. It travels with a call between our services in
/// the <see cref="HeaderName"/> metadata, so the margin monitor's read of the account through Execution is as urgent in
/// Execution as in Risk.
/// </summary>
public static class VenueRequestPriority
{
    /// <summary>The gRPC metadata that carries a priority other than normal (lower case, as gRPC metadata names are).</summary>
    public const string HeaderName = "x-venue-priority";

    private static readonly AsyncLocal<VenuePriority?> Ambient = new();

    public static VenuePriority Current => Ambient.Value ?? VenuePriority.Normal;

    /// <summary>The current priority, or <paramref name="floor"/> when the current one is lower (for a load others join).</summary>
    public static VenuePriority AtLeast(VenuePriority floor) => Current > floor ? Current : floor;

    /// <summary>The current priority, or <paramref name="ceiling"/> when the current one is higher (for work that adds risk).</summary>
    public static VenuePriority AtMost(VenuePriority ceiling) => Current < ceiling ? Current : ceiling;

    /// <summary>
    /// Makes <paramref name="priority"/> the current one until the scope is disposed (and, as for any
    /// <see cref="AsyncLocal{T}"/>, in everything started from here, awaited or not).
    /// </summary>
    public static Scope Enter(VenuePriority priority)
    {
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a venue priority");
        }

        var previous = Ambient.Value;
        Ambient.Value = priority;
        return new Scope(previous);
    }

    /// <summary>The priority's wire name: <c>background</c>, <c>normal</c> or <c>urgent</c>.</summary>
    public static string ToWire(VenuePriority priority) => priority switch
    {
        VenuePriority.Background => "background",
        VenuePriority.Normal => "normal",
        VenuePriority.Urgent => "urgent",
        _ => throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a venue priority"),
    };

    /// <summary>Reads a wire name exactly as <see cref="ToWire"/> writes it (no case folding, no numbers, no spaces).</summary>
    public static bool TryParseWire(string? text, out VenuePriority priority)
    {
        switch (text)
        {
            case "background":
                priority = VenuePriority.Background;
                return true;
            case "normal":
                priority = VenuePriority.Normal;
                return true;
            case "urgent":
                priority = VenuePriority.Urgent;
                return true;
            default:
                priority = VenuePriority.Normal;
                return false;
        }
    }

    /// <summary>Puts back the priority that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly VenuePriority? _previous;

        internal Scope(VenuePriority? previous) => _previous = previous;

        public void Dispose() => Ambient.Value = _previous;
    }
}
