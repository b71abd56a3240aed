using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Instruments;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Funding.Options;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Market;

/// <summary>
/// The venue's funding data. The current rate of a symbol (premium index) is cached until its next funding time or
/// <see cref="FundingOptions.RateCacheTtlSeconds"/>, whichever comes first, with one request per symbol in flight
/// however many callers wait. Interval, cap and floor are the venue's instrument catalog's
/// (<see cref="VenueInstrumentCatalog"/>: fundingInfo, refreshed every <c>Binance:InstrumentCatalogTtl</c>), read on
/// every call, so a change shows as soon as the catalog has it. A symbol the venue does not list is INVALID_ARGUMENT
/// naming <c>symbol</c>. When a refresh changes a listed symbol's interval, cap or floor, the first reader of the
/// new snapshot raises <see cref="FundingScheduleChanged"/>, once per change.
/// </summary>
public sealed partial class FundingMarketData(
    IBinanceClient venue,
    VenueInstrumentCatalog instruments,
    IFundingAlerts alerts,
    TimeProvider time,
    IOptions<FundingOptions> options,
    ILogger<FundingMarketData> logger)
{
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long a schedule-change announcement waits for the broker (a short outage delays it, not loses it).</summary>
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, CacheEntry<RateQuote>> _rates = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private VenueInstrumentSnapshot? _seen;

    /// <summary>Rate, mark and index price, next funding time and terms of <paramref name="symbol"/>.</summary>
    public async Task<SymbolFunding> GetCurrentAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        var terms = await GetTermsAsync(symbol, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        CacheEntry<RateQuote> entry;
        lock (_lock)
        {
            if (!_rates.TryGetValue(symbol.Value, out entry!) || entry.IsStale(now))
            {
                entry = new CacheEntry<RateQuote>();
                entry.Start(() => LoadRateAsync(symbol, entry));
                _rates[symbol.Value] = entry;
            }
        }

        var quote = await WaitForRateAsync(symbol, entry.Task, cancellationToken).ConfigureAwait(false);
        return new SymbolFunding(symbol, quote.Rate, quote.Mark, quote.Index, quote.NextFundingTime, terms, quote.AsOf);
    }

    /// <summary>The funding terms of a symbol the venue lists (fundingInfo; Binance's default 8 h when absent there).</summary>
    public async Task<FundingTerms> GetTermsAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        var snapshot = await VenueCall.Run(() => WaitForCatalogAsync(cancellationToken), caller: cancellationToken).ConfigureAwait(false);
        AnnounceChanges(snapshot);
        if (!snapshot.TryGet(symbol, out var instrument))
        {
            throw new RequestValidationException("symbol", $"unknown symbol: the venue does not list {symbol}");
        }

        return FundingTerms.Of(instrument);
    }

    /// <summary>Drops every cached value (the next call reads the venue).</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _rates.Clear();
        }

        instruments.Invalidate();
    }

    /// <summary>
    /// The instrument catalog's snapshot. Warm, at once; cold (its first read, or the first after a failed one), the
    /// read of the venue is shared and bounded only by its own timeout, so a caller under a hold limit (an open's quote,
    /// its symbol's lock held) waits no longer than the limit: then RESOURCE_EXHAUSTED, as for the rate (the read goes
    /// on and fills the catalog for a retry). The wait counts against the limit, so the rate's wait after it has the rest.
    /// </summary>
    private Task<VenueInstrumentSnapshot> WaitForCatalogAsync(CancellationToken cancellationToken) =>
        HoldLimitedWait.WaitAsync(
            instruments.GetSnapshotAsync(cancellationToken).AsTask(),
            "The venue's instrument list (the funding terms: interval, cap and floor) is still being read and",
            left => LogCatalogHeldPastHoldLimit(logger, left.TotalMilliseconds), cancellationToken);

    /// <summary>
    /// Waits for the symbol's rate load. A caller under a hold limit (<see cref="VenueHoldLimit"/>: an open holding its
    /// symbol's lock, whose limit travels with its call) waits no longer than the limit: then RESOURCE_EXHAUSTED, not
    /// waited for (the load goes on for the others, and fills the cache for a retry).
    /// </summary>
    private Task<RateQuote> WaitForRateAsync(Symbol symbol, Task<RateQuote> load, CancellationToken cancellationToken) =>
        HoldLimitedWait.WaitAsync(
            load, $"The venue's read of {symbol}'s funding rate (held back by its rate limit, or slow)",
            left => LogRateHeldPastHoldLimit(logger, symbol.Value, left.TotalMilliseconds), cancellationToken);

    private async Task<RateQuote> LoadRateAsync(Symbol symbol, CacheEntry<RateQuote> entry)
    {
        // Shared by every caller waiting for it: at least normal priority, whoever started it (a background pass's read
        // must not hold back an open's quote that joined it), and not held to the hold limit of whoever started it (that
        // caller's wait is bounded instead: WaitForRateAsync).
        using var priority = VenueRequestPriority.Enter(VenueRequestPriority.AtLeast(VenuePriority.Normal));
        using var unbounded = VenueHoldLimit.Enter(null);
        using var timeout = new CancellationTokenSource(LoadTimeout);
        var index = await VenueCall.Run(() => venue.GetPremiumIndexAsync(symbol.Value, timeout.Token)).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var ttl = now.AddSeconds(options.Value.RateCacheTtlSeconds);
        entry.ExpiresAt = index.NextFundingTime > now && index.NextFundingTime < ttl ? index.NextFundingTime : ttl;
        return new RateQuote(index.LastFundingRate, index.MarkPrice, index.IndexPrice, index.NextFundingTime, index.Time);
    }

    /// <summary>
    /// Compares a snapshot not seen before with the previous one; only the caller that swaps them announces. The
    /// announcement is published off the request path: a broker that is down or slow must not hold up the caller's
    /// quote (MassTransit waits for the broker). It is given <see cref="AlertTimeout"/> to get through.
    /// </summary>
    private void AnnounceChanges(VenueInstrumentSnapshot current)
    {
        VenueInstrumentSnapshot? previous;
        lock (_lock)
        {
            previous = _seen;
            if (ReferenceEquals(previous, current) || (previous is not null && previous.LoadedAt > current.LoadedAt))
            {
                return;
            }

            _seen = current;
        }

        if (previous is null)
        {
            return;
        }

        var changes = new List<FundingScheduleChanged>();
        foreach (var (symbol, after) in current.Instruments)
        {
            // A symbol listed or delisted between two reads is not a schedule change.
            if (!previous.Instruments.TryGetValue(symbol, out var before) || FundingTerms.Of(before) == FundingTerms.Of(after))
            {
                continue;
            }

            var was = FundingTerms.Of(before);
            var now = FundingTerms.Of(after);
            LogTermsChanged(logger, symbol, was.IntervalHours, now.IntervalHours);
            changes.Add(new FundingScheduleChanged(
                NewId.NextGuid(), time.GetUtcNow(), symbol, was.IntervalHours, now.IntervalHours, was.Cap, now.Cap, was.Floor, now.Floor));
        }

        if (changes.Count > 0)
        {
            _ = Task.Run(() => PublishAsync(changes));
        }
    }

    private async Task PublishAsync(List<FundingScheduleChanged> changes)
    {
        using var timeout = new CancellationTokenSource(AlertTimeout);
        foreach (var change in changes)
        {
            try
            {
                await alerts.ScheduleChangedAsync(change, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogAlertFailed(logger, change.Symbol, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The funding rate of {Symbol} was not waited for: its venue read takes longer than the caller's hold limit ({HoldLimitMs} ms)")]
    private static partial void LogRateHeldPastHoldLimit(ILogger logger, string symbol, double holdLimitMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The instrument catalog's first read outlasted a caller's venue hold limit ({HoldLimitMs} ms); the caller was not kept waiting")]
    private static partial void LogCatalogHeldPastHoldLimit(ILogger logger, double holdLimitMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding terms of {Symbol} changed: interval {Previous} h -> {Current} h")]
    private static partial void LogTermsChanged(ILogger logger, string symbol, int previous, int current);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not publish the funding schedule change of {Symbol}: {Error}")]
    private static partial void LogAlertFailed(ILogger logger, string symbol, string error);

    private sealed record RateQuote(decimal Rate, decimal Mark, decimal Index, DateTimeOffset NextFundingTime, DateTimeOffset AsOf);

    /// <summary>One cached value: its load (shared by every waiting caller) and when it goes stale.</summary>
    private sealed class CacheEntry<T>
    {
        public Task<T> Task { get; private set; } = null!;

        public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

        public void Start(Func<Task<T>> load) => Task = System.Threading.Tasks.Task.Run(load);

        /// <summary>A failed load is retried by the next caller; a load in flight is shared.</summary>
        public bool IsStale(DateTimeOffset now) =>
            Task.IsFaulted || Task.IsCanceled || (Task.IsCompletedSuccessfully && now >= ExpiresAt);
    }
}
