using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;

namespace TradeEngine.Funding.Accrual;

public sealed partial class FundingAccrual
{
    private static readonly TimeSpan MatchTolerance = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryUnlisted = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, SettledHistory> _history = new(StringComparer.Ordinal);

    /// <summary>
    /// The symbol's settlements as the venue lists them (GET fapi/v1/fundingRate), from <paramref name="from"/> to
    /// <paramref name="to"/>. The venue's list, not the symbol's current interval, says when settlements happened: Binance
    /// moves a symbol between 8 h, 4 h and 1 h (when its rate reaches the cap), and a backfill across such a change
    /// computed from today's interval would miss settlements or wait for ones that never were.
    /// </summary>
    /// <remarks>
    /// Kept per symbol and read again only when a settlement can have happened since: once the window reaches past a
    /// whole hour (every interval's settlements fall on whole UTC hours), re-reading the last hour so an entry the venue
    /// published late is found; and, at most once a minute, while the current interval's latest settlement is due and not
    /// yet listed, or a listed one lacks its mark price (read again from that one on). A pass every few seconds so costs
    /// the venue about one read per symbol per hour.
    /// </remarks>
    private async Task<SettledHistory> SettledAsync(
        Symbol symbol, FundingSchedule schedule, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!_history.TryGetValue(symbol.Value, out var history) || from < history.From)
        {
            history = new SettledHistory(from);
            await history.ReadAsync(venue, symbol.Value, from - MatchTolerance, to, now, cancellationToken).ConfigureAwait(false);
            _history[symbol.Value] = history;
        }
        else if (to > history.To
            && (WholeHourBetween(history.To, to) || (history.Awaits(schedule, to) && now - history.ReadAt >= RetryUnlisted)))
        {
            var start = history.To - TimeSpan.FromHours(1);
            if (history.EarliestWithoutMark is { } markless && markless < start)
            {
                start = markless;
            }

            await history.ReadAsync(venue, symbol.Value, start - MatchTolerance, to, now, cancellationToken).ConfigureAwait(false);
        }

        history.Forget(now.AddDays(-options.Value.Accrual.MaxBackfillDays - 1));
        return history;
    }

    private static bool WholeHourBetween(DateTimeOffset fromExclusive, DateTimeOffset toInclusive) =>
        toInclusive.UtcTicks / TimeSpan.TicksPerHour > fromExclusive.UtcTicks / TimeSpan.TicksPerHour;

    /// <summary>
    /// One symbol's settlements read from the venue, keyed by funding time: the venue's stamp rounded to the whole minute
    /// (it stamps a settlement at the boundary or a few milliseconds after it; the Ledger's key is the boundary).
    /// </summary>
    private sealed class SettledHistory(DateTimeOffset from)
    {
        private readonly SortedList<DateTimeOffset, FundingRateEntry> _entries = [];

        /// <summary>The window read so far: settlements after <see cref="From"/> up to <see cref="To"/>.</summary>
        public DateTimeOffset From { get; private set; } = from;

        public DateTimeOffset To { get; private set; } = from;

        public DateTimeOffset ReadAt { get; private set; }

        public async Task ReadAsync(IBinanceClient venue, string symbol, DateTimeOffset start, DateTimeOffset end, DateTimeOffset now, CancellationToken ct)
        {
            await foreach (var entry in venue.GetFundingRateHistoryPagedAsync(symbol, start, end, ct).ConfigureAwait(false))
            {
                _entries[FundingTimeOf(entry)] = entry;
            }

            (To, ReadAt) = (end > To ? end : To, now);
        }

        /// <summary>The settlements t with from &lt; t ≤ until, in order.</summary>
        public IEnumerable<(DateTimeOffset FundingTime, FundingRateEntry Entry)> Between(DateTimeOffset fromExclusive, DateTimeOffset untilInclusive) =>
            _entries.Where(e => e.Key > fromExclusive && e.Key <= untilInclusive).Select(e => (e.Key, e.Value));

        /// <summary>The earliest listed settlement still without its mark price (it cannot be posted until the venue adds it).</summary>
        public DateTimeOffset? EarliestWithoutMark =>
            _entries.FirstOrDefault(e => e.Value.MarkPrice is null) is { Value: not null } e ? e.Key : null;

        /// <summary>
        /// Whether the list waits for something the venue should have by <paramref name="to"/>: the current interval's
        /// latest settlement, or the mark price of a listed one.
        /// </summary>
        public bool Awaits(FundingSchedule schedule, DateTimeOffset to)
        {
            var latest = schedule.NextFundingTime(to - schedule.Interval);
            return (latest <= to && latest > From && !_entries.ContainsKey(latest)) || EarliestWithoutMark is not null;
        }

        public void Forget(DateTimeOffset before)
        {
            while (_entries.Count > 0 && _entries.Keys[0] < before)
            {
                _entries.RemoveAt(0);
            }

            if (From < before)
            {
                From = before;
            }
        }

        private static DateTimeOffset FundingTimeOf(FundingRateEntry entry)
        {
            var ticks = entry.FundingTime.UtcTicks + (TimeSpan.TicksPerMinute / 2);
            return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        }
    }
}
