namespace TradeEngine.Binance.Internal.Http;

// RateLimitGovernor's count of one limit's window.
internal sealed partial class RateLimitGovernor
{
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
