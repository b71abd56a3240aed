using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Funding.Options;

namespace TradeEngine.Funding.Market;

/// <summary>
/// The venue's funding data, cached. The current rate of a symbol (premium index) is reused until its next funding
/// time or <see cref="FundingOptions.RateCacheTtlSeconds"/>, whichever comes first; funding info (interval, cap,
/// floor) for <see cref="FundingOptions.FundingInfoTtlSeconds"/>. However many callers wait, one request per symbol
/// is in flight. A change of a symbol's interval, cap or floor between two funding-info reads raises
/// <see cref="FundingScheduleChanged"/>.
/// </summary>
public sealed partial class FundingMarketData(
    IBinanceClient venue,
    IFundingAlerts alerts,
    TimeProvider time,
    IOptions<FundingOptions> options,
    ILogger<FundingMarketData> logger)
{
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, CacheEntry<SymbolFunding>> _rates = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private CacheEntry<IReadOnlyDictionary<string, FundingTerms>>? _terms;
    private IReadOnlyDictionary<string, FundingTerms>? _lastTerms;

    /// <summary>Rate, mark and index price, next funding time and terms of <paramref name="symbol"/>.</summary>
    public Task<SymbolFunding> GetCurrentAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        CacheEntry<SymbolFunding> entry;
        lock (_lock)
        {
            if (!_rates.TryGetValue(symbol.Value, out entry!) || entry.IsStale(now))
            {
                entry = new CacheEntry<SymbolFunding>();
                entry.Start(() => LoadRateAsync(symbol, entry));
                _rates[symbol.Value] = entry;
            }
        }

        return entry.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The funding terms of a symbol: from fundingInfo, or Binance's default 8 h when the symbol is absent there.</summary>
    public async Task<FundingTerms> GetTermsAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        var all = await GetAllTermsAsync(cancellationToken).ConfigureAwait(false);
        return all.TryGetValue(symbol.Value, out var terms) ? terms : FundingTerms.Default;
    }

    /// <summary>Drops every cached value (the next call reads the venue).</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _rates.Clear();
            _terms = null;
        }
    }

    private Task<IReadOnlyDictionary<string, FundingTerms>> GetAllTermsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        CacheEntry<IReadOnlyDictionary<string, FundingTerms>> entry;
        lock (_lock)
        {
            if (_terms is null || _terms.IsStale(now))
            {
                var fresh = new CacheEntry<IReadOnlyDictionary<string, FundingTerms>>();
                fresh.Start(() => LoadTermsAsync(fresh));
                _terms = fresh;
            }

            entry = _terms;
        }

        return entry.Task.WaitAsync(cancellationToken);
    }

    private async Task<SymbolFunding> LoadRateAsync(Symbol symbol, CacheEntry<SymbolFunding> entry)
    {
        using var timeout = new CancellationTokenSource(LoadTimeout);
        var index = await VenueCall.Run(() => venue.GetPremiumIndexAsync(symbol.Value, timeout.Token)).ConfigureAwait(false);
        var terms = await GetTermsAsync(symbol, timeout.Token).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var ttl = now.AddSeconds(options.Value.RateCacheTtlSeconds);
        entry.ExpiresAt = index.NextFundingTime > now && index.NextFundingTime < ttl ? index.NextFundingTime : ttl;
        return new SymbolFunding(symbol, index.LastFundingRate, index.MarkPrice, index.IndexPrice, index.NextFundingTime, terms, index.Time);
    }

    private async Task<IReadOnlyDictionary<string, FundingTerms>> LoadTermsAsync(CacheEntry<IReadOnlyDictionary<string, FundingTerms>> entry)
    {
        using var timeout = new CancellationTokenSource(LoadTimeout);
        var info = await VenueCall.Run(() => venue.GetFundingInfoAsync(timeout.Token)).ConfigureAwait(false);
        var terms = info.ToDictionary(
            i => i.Symbol,
            i => new FundingTerms(i.FundingIntervalHours, i.AdjustedFundingRateCap, i.AdjustedFundingRateFloor),
            StringComparer.Ordinal);
        entry.ExpiresAt = time.GetUtcNow().AddSeconds(options.Value.FundingInfoTtlSeconds);
        await AnnounceChangesAsync(terms, timeout.Token).ConfigureAwait(false);
        return terms;
    }

    private async Task AnnounceChangesAsync(Dictionary<string, FundingTerms> current, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, FundingTerms>? previous;
        lock (_lock)
        {
            previous = _lastTerms;
            _lastTerms = current;
        }

        if (previous is null)
        {
            return;
        }

        foreach (var symbol in previous.Keys.Union(current.Keys))
        {
            var before = previous.GetValueOrDefault(symbol, FundingTerms.Default);
            var after = current.GetValueOrDefault(symbol, FundingTerms.Default);
            if (before == after)
            {
                continue;
            }

            LogTermsChanged(logger, symbol, before.IntervalHours, after.IntervalHours);
            try
            {
                await alerts.ScheduleChangedAsync(new FundingScheduleChanged(
                    NewId.NextGuid(), time.GetUtcNow(), symbol, before.IntervalHours, after.IntervalHours,
                    before.Cap, after.Cap, before.Floor, after.Floor), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogAlertFailed(logger, symbol, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding terms of {Symbol} changed: interval {Previous} h -> {Current} h")]
    private static partial void LogTermsChanged(ILogger logger, string symbol, int previous, int current);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not publish the funding schedule change of {Symbol}: {Error}")]
    private static partial void LogAlertFailed(ILogger logger, string symbol, string error);

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
