using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.Errors;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Instruments;

/// <summary>
/// The venue's instruments as Domain models them, cached. The first caller waits for the venue (exchangeInfo,
/// leverageBracket and fundingInfo, read together); after <see cref="BinanceOptions.InstrumentCatalogTtl"/> the next
/// caller still gets the cached snapshot at once and starts a refresh in the background, so a check never waits on
/// the venue once the catalog is warm. However many callers there are, one refresh is in flight. A failed refresh
/// keeps the last snapshot and is retried after <see cref="RetryDelay"/>.
/// An unknown symbol is a refusal (<see cref="BinanceRequestRefusedException"/>, kind InvalidSymbol, field
/// <c>symbol</c>) from <see cref="GetAsync"/> and null from <see cref="TryGetAsync"/>; callers answer it with
/// INVALID_ARGUMENT naming their symbol field.
/// </summary>
public sealed partial class VenueInstrumentCatalog : IInstrumentSource
{
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(30);

    private readonly IBinanceClient _venue;
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private VenueInstrumentSnapshot? _current;
    private Task<VenueInstrumentSnapshot>? _refresh;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private bool _stale;

    public VenueInstrumentCatalog(IBinanceClient venue, IOptions<BinanceOptions> options, TimeProvider? time = null, ILogger<VenueInstrumentCatalog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(venue);
        ArgumentNullException.ThrowIfNull(options);
        _venue = venue;
        _ttl = options.Value.InstrumentCatalogTtl;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<VenueInstrumentCatalog>.Instance;
    }

    /// <summary>The instrument of <paramref name="symbol"/>; refused (kind InvalidSymbol, field <c>symbol</c>) when the venue does not list it.</summary>
    public async ValueTask<Instrument> GetAsync(Symbol symbol, CancellationToken ct = default) =>
        await TryGetAsync(symbol, ct).ConfigureAwait(false)
        ?? throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidSymbol, "symbol", $"unknown symbol: the venue does not list '{symbol}'");

    /// <summary>The instrument of <paramref name="symbol"/>, or null when the venue does not list it.</summary>
    public ValueTask<Instrument?> TryGetAsync(Symbol symbol, CancellationToken ct = default)
    {
        var snapshot = GetSnapshotAsync(ct);
        if (snapshot.IsCompletedSuccessfully)
        {
            return ValueTask.FromResult(Find(snapshot.Result, symbol));
        }

        return AwaitFind(snapshot, symbol);

        static async ValueTask<Instrument?> AwaitFind(ValueTask<VenueInstrumentSnapshot> pending, Symbol symbol) =>
            Find(await pending.ConfigureAwait(false), symbol);
    }

    /// <summary>
    /// Every instrument the venue lists, as last read. Completes synchronously once warm (a stale snapshot starts a
    /// background refresh); waits for the venue only before the first successful read.
    /// </summary>
    public ValueTask<VenueInstrumentSnapshot> GetSnapshotAsync(CancellationToken ct = default)
    {
        var current = Volatile.Read(ref _current);
        if (current is null)
        {
            return new ValueTask<VenueInstrumentSnapshot>(Refresh(force: true).WaitAsync(ct));
        }

        if (_stale || _time.GetUtcNow() - current.LoadedAt >= _ttl)
        {
            _ = Refresh(force: false);
        }

        return ValueTask.FromResult(current);
    }

    /// <summary>Reads the venue now (joining a refresh already in flight) and returns the new snapshot.</summary>
    public Task<VenueInstrumentSnapshot> RefreshAsync(CancellationToken ct = default) => Refresh(force: true).WaitAsync(ct);

    /// <summary>Marks the snapshot stale: the next read starts a refresh.</summary>
    public void Invalidate() => _stale = true;

    private static Instrument? Find(VenueInstrumentSnapshot snapshot, Symbol symbol) =>
        snapshot.TryGet(symbol, out var instrument) ? instrument : null;

    private Task<VenueInstrumentSnapshot> Refresh(bool force)
    {
        lock (_lock)
        {
            if (_refresh is { IsCompleted: false } running)
            {
                return running;
            }

            if (!force && _current is { } current && _time.GetUtcNow() < _retryAt)
            {
                return Task.FromResult(current);
            }

            _stale = false;
            // A refresh behind a snapshot still served is background work; a read that callers wait on (the first, or
            // one asked for) goes at least at normal priority, whoever started it (others join it).
            var priority = !force ? VenuePriority.Background
                : VenueRequestPriority.AtLeast(VenuePriority.Normal);
            var task = Task.Run(() => LoadAsync(priority));
            _refresh = task;
            return task;
        }
    }

    private async Task<VenueInstrumentSnapshot> LoadAsync(VenuePriority priority)
    {
        using var scope = VenueRequestPriority.Enter(priority);
        // Shared too: not held to the hold limit of whoever started it (an open under its lock), which would refuse it
        // for every caller that joined.
        using var unbounded = VenueHoldLimit.Enter(null);
        using var timeout = new CancellationTokenSource(LoadTimeout);
        try
        {
            var exchange = _venue.GetExchangeInfoAsync(timeout.Token);
            var brackets = _venue.GetLeverageBracketsAsync(null, timeout.Token);
            var funding = _venue.GetFundingInfoAsync(timeout.Token);
            await Task.WhenAll(exchange, brackets, funding).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var skipped = new List<(string Symbol, string Reason)>();
            var instruments = VenueInstrumentBuilder.Build(exchange.Result, brackets.Result, funding.Result, now, skipped);
            foreach (var (symbol, reason) in skipped)
            {
                LogSkipped(_logger, symbol, reason);
            }

            var snapshot = new VenueInstrumentSnapshot(instruments, exchange.Result.Symbols, now);
            Volatile.Write(ref _current, snapshot);
            LogLoaded(_logger, snapshot.Instruments.Count);
            return snapshot;
        }
        catch (Exception ex) when ((ex is BinanceException or HttpRequestException or OperationCanceledException) && Volatile.Read(ref _current) is not null)
        {
            // Keep serving the last snapshot; the venue is asked again after the retry delay.
            _retryAt = _time.GetUtcNow() + RetryDelay;
            LogRefreshFailed(_logger, ex.GetType().Name, ex.Message);
            return _current!;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Venue instrument catalog loaded: {Count} symbols")]
    private static partial void LogLoaded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Venue symbol {Symbol} left out of the instrument catalog: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string symbol, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Venue instrument catalog refresh failed, keeping the last snapshot: {ErrorType}: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string errorType, string error);
}
