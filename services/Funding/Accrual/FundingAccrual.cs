using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Funding.Market;
using TradeEngine.Funding.Options;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Accrual;

/// <summary>
/// One accrual pass: every open position in the Ledger, and every one closed within the backfill window, gets a funding
/// event for each settlement the venue lists for its symbol between its opening (or <see cref="FundingAccrualOptions.MaxBackfillDays"/>
/// ago) and now (or its close), at the settled rate and
/// the mark price the venue reports for that funding time: payment = signed size × mark × rate (Domain's
/// <see cref="FundingMath.SettlementAmount"/>; positive when we pay). The event is keyed by position and funding
/// time, so however often a pass runs, after however long a downtime, each settlement is posted once.
/// </summary>
/// <remarks>
/// The size used is the position's size at the funding time, from the Ledger's journal of its opens, adds and reduces
/// (GetPositionSizeAt): a position added to or reduced after a missed settlement is backfilled at the size it had then.
/// With a live account, <see cref="IncomeReconciler"/> compares against the venue's income.
/// </remarks>
public sealed partial class FundingAccrual(
    LedgerService.LedgerServiceClient ledger,
    IBinanceClient venue,
    FundingMarketData market,
    IncomeReconciler reconciler,
    TimeProvider time,
    IOptions<FundingOptions> options,
    ILogger<FundingAccrual> logger)
{
    private static readonly TimeSpan MatchTolerance = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryUnlisted = TimeSpan.FromMinutes(1);
    private readonly HashSet<(string PositionId, long FundingTimeMs)> _posted = [];
    private readonly Dictionary<string, SettledHistory> _history = new(StringComparer.Ordinal);

    /// <summary>Runs one pass; returns how many settlements were newly posted (replays not counted).</summary>
    /// <remarks>
    /// Each symbol is accrued on its own: one that fails is logged and left due, and the other symbols and the
    /// reconciliation still run (unless the pass is being cancelled).
    /// </remarks>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var open = await ledger.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = settings.Venue }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        // Positions closed within the backfill window too: one closed while this service was down still owes (or earned)
        // the settlements between the last pass and its close.
        var positions = open.Positions.ToList();
        positions.AddRange(await ClosedSinceAsync(now.AddDays(-settings.Accrual.MaxBackfillDays), cancellationToken).ConfigureAwait(false));
        var posted = 0;
        foreach (var bySymbol in positions.GroupBy(p => p.Symbol, StringComparer.Ordinal))
        {
            try
            {
                posted += await AccrueSymbolAsync(bySymbol.Key, bySymbol.ToList(), now, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // One symbol that fails on every pass (the venue's history unreadable, a mark FundingMath refuses, a Ledger
                // status PostAsync does not expect) must not hold back the others' settlements or the reconciliation:
                // it stays due and is tried again next pass.
                LogSymbolFailed(logger, bySymbol.Key, ex.GetType().Name, ex.Message);
            }
        }

        await reconciler.RunAsync(now, cancellationToken).ConfigureAwait(false);
        _posted.RemoveWhere(p => p.FundingTimeMs < now.AddDays(-settings.Accrual.MaxBackfillDays - 1).ToUnixTimeMilliseconds());
        return posted;
    }

    private async Task<int> AccrueSymbolAsync(string symbolText, List<PositionRecord> positions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!Symbol.TryParse(symbolText, out var symbol))
        {
            return 0;
        }

        FundingSchedule schedule;
        try
        {
            schedule = (await market.GetTermsAsync(symbol, cancellationToken).ConfigureAwait(false)).Schedule;
        }
        catch (RequestValidationException)
        {
            // A position on a symbol the venue no longer lists: nothing to settle there; the other symbols go on.
            LogUnlisted(logger, symbolText, positions.Count);
            return 0;
        }

        var earliest = now.AddDays(-options.Value.Accrual.MaxBackfillDays);
        // Settlements younger than the grace wait: a fill from just before one may still be on its way to the Ledger.
        var settledBy = now.AddSeconds(-Math.Max(0, options.Value.Accrual.SettleAfterSeconds));
        var windows = new List<(PositionRecord Position, DateTimeOffset From, DateTimeOffset Until)>();
        foreach (var position in positions)
        {
            var openedAt = position.OpenedAt?.ToDateTimeOffset() ?? now;
            var from = openedAt > earliest ? openedAt : earliest;
            var until = position.ClosedAt?.ToDateTimeOffset() is { } closedAt && closedAt < settledBy ? closedAt : settledBy;
            if (until > from)
            {
                // (Opened inside the grace window, or by a clock ahead of this one: nothing of it is due yet.)
                windows.Add((position, from, until));
            }
        }

        if (windows.Count == 0)
        {
            return 0;
        }

        var history = await SettledAsync(symbol, schedule, windows.Min(w => w.From), settledBy, now, cancellationToken).ConfigureAwait(false);
        var posted = 0;
        foreach (var (position, from, until) in windows)
        {
            foreach (var (t, entry) in history.Between(from, until))
            {
                if (_posted.Contains((position.PositionId, t.ToUnixTimeMilliseconds())))
                {
                    continue;
                }

                if (entry.MarkPrice is not { } mark)
                {
                    // The venue has published the settlement without its mark price: it is posted once the mark is there.
                    LogNotSettled(logger, symbol.Value, t);
                    continue;
                }

                if (await PostAsync(position, symbol, t, entry.FundingRate, mark, cancellationToken).ConfigureAwait(false))
                {
                    posted++;
                }
            }
        }

        return posted;
    }

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

    private async Task<List<PositionRecord>> ClosedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var closed = new List<PositionRecord>();
        var request = new GetPositionsRequest
        {
            Venue = options.Value.Venue,
            ClosedSince = Wire.Timestamp(since),
            Page = new Common.V1.PageRequest { PageSize = 1000 },
        };
        while (true)
        {
            var page = await ledger.GetPositionsAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            closed.AddRange(page.Positions.Where(p => p.ClosedAt is not null));
            if (string.IsNullOrEmpty(page.NextPageToken))
            {
                return closed;
            }

            request.Page.PageToken = page.NextPageToken;
        }
    }

    private async Task<bool> PostAsync(PositionRecord position, Symbol symbol, DateTimeOffset t, decimal rate, decimal mark, CancellationToken cancellationToken)
    {
        var ms = t.ToUnixTimeMilliseconds();
        var size = await ledger.GetPositionSizeAtAsync(
            new GetPositionSizeAtRequest { PositionId = position.PositionId, At = Wire.Timestamp(t) }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var quantity = DecimalText.Parse(size.Quantity, "quantity");
        if (quantity == 0m)
        {
            // Not held at that instant (opened just after it): nothing was paid or received.
            _posted.Add((position.PositionId, ms));
            return false;
        }

        var signed = size.Side == Common.V1.Side.Short ? -quantity : quantity;
        var payment = FundingMath.SettlementAmount(signed, mark, rate);
        var key = string.Create(CultureInfo.InvariantCulture, $"funding:{position.PositionId}:{ms}");
        try
        {
            var response = await ledger.LogFundingEventAsync(Posting(position, symbol, t, rate, mark, signed, key), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _posted.Add((position.PositionId, ms));
            reconciler.Expect(position.PositionId, symbol, t, payment);
            if (!response.Replayed)
            {
                LogPosted(logger, position.PositionId, symbol.Value, t, payment);
            }

            return !response.Replayed;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            // A posting the Ledger cannot take is a defect here, not a settlement done: it stays due (and loud) so
            // that nothing owed is silently dropped.
            LogInvalid(logger, position.PositionId, t, ex.Status.Detail);
            return false;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.FailedPrecondition)
        {
            // The Ledger holds a different posting for this position and time (or refuses this one): never post twice.
            _posted.Add((position.PositionId, ms));
            LogRefused(logger, position.PositionId, t, ex.Status.Detail);
            return false;
        }
    }

    /// <summary>
    /// The funding event of one settlement: payment = signed size × mark × rate (<see cref="FundingMath.SettlementAmount"/>)
    /// and notional = |size| × mark, both rounded to the Ledger's 8 decimals half to even (<see cref="FundingMath.PostedAmount"/>).
    /// </summary>
    public static LogFundingEventRequest Posting(PositionRecord position, Symbol symbol, DateTimeOffset t, decimal rate, decimal mark, decimal signed, string key)
    {
        var payment = FundingMath.SettlementAmount(signed, mark, rate);
        return new LogFundingEventRequest
        {
            IdempotencyKey = key,
            PositionId = position.PositionId,
            Symbol = symbol.Value,
            Venue = position.Venue,
            FundingRate = Wire.Format(rate),
            PositionSize = Wire.Format(signed),
            MarkPrice = Wire.Format(mark),
            // The venue's mark has up to 8 decimals, so size × mark can have more than the Ledger's 8: rounded
            // like the payment (FundingMath.PostedAmount, half to even).
            Notional = Wire.Format(FundingMath.PostedAmount(Math.Abs(signed) * mark)),
            Payment = Wire.Format(payment),
            FundingTime = Wire.Timestamp(t),
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Funding posted: position {PositionId} {Symbol} at {FundingTime}: {Payment}")]
    private static partial void LogPosted(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, decimal payment);

    [LoggerMessage(Level = LogLevel.Error, Message = "Funding of position {PositionId} at {FundingTime} refused as invalid by the Ledger; it stays due: {Detail}")]
    private static partial void LogInvalid(ILogger logger, string positionId, DateTimeOffset fundingTime, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} open position(s) on {Symbol}, which the venue does not list: no funding accrued")]
    private static partial void LogUnlisted(ILogger logger, string symbol, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding accrual of {Symbol} failed; its settlements stay due and the other symbols go on: {ErrorType}: {Error}")]
    private static partial void LogSymbolFailed(ILogger logger, string symbol, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Funding of {Symbol} at {FundingTime} is not settled at the venue yet")]
    private static partial void LogNotSettled(ILogger logger, string symbol, DateTimeOffset fundingTime);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger refused the funding event of position {PositionId} at {FundingTime}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string positionId, DateTimeOffset fundingTime, string detail);
}
