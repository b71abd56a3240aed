using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal.Http;

/// <summary>
/// Sends one venue request: signing, clock offset, rate-limit headers, per-attempt timeout and error mapping.
/// Retries only what cannot duplicate an effect (-1021 after a re-sync, 429 within the allowed wait, and an
/// idempotent call after a failure); orders get their unknown-outcome handling from <see cref="BinanceClient"/>.
/// </summary>
internal sealed partial class BinanceTransport
{
    public static readonly ActivitySource ActivitySource = new("TradeEngine.Binance");

    private readonly HttpClient _http;
    private readonly BinanceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[]? _secret;
    private readonly string? _apiKey;

    public BinanceTransport(HttpClient http, BinanceOptions options, TimeProvider time, ILogger logger)
    {
        _http = http;
        _options = options;
        _time = time;
        _logger = logger;
        _apiKey = string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey;
        _secret = string.IsNullOrEmpty(options.ApiSecret) ? null : Encoding.UTF8.GetBytes(options.ApiSecret);
        Clock = new ClockSync(time);
        Governor = new RateLimitGovernor(
            time, Clock.ServerNow, options.MaxRetryAfterWait, options.RateLimitUsage, options.FundingRouteLimit, options.BackgroundRateLimitUsage);
        if (_http.BaseAddress is null)
        {
            _http.BaseAddress = options.ResolveBaseUri();
        }
    }

    public ClockSync Clock { get; }

    public RateLimitGovernor Governor { get; }

    public bool HasCredentials => _apiKey is not null && _secret is not null;

    /// <summary>
    /// Sends with the retries that are always safe. For an order, an unknown outcome surfaces as
    /// <see cref="OutcomeUnknownException"/> (and <see cref="VenueRequest.MayHaveExecuted"/> stays true); any failure
    /// before a copy left (clock sync, rate-limit hold) is definite: the order was not sent.
    /// </summary>
    public async Task<T> SendAsync<T>(VenueRequest request, JsonTypeInfo<T> type, CancellationToken ct) =>
        (await SendCoreAsync(request, type, absentCode: 0, ct).ConfigureAwait(false))!;

    /// <summary>
    /// A look-up whose "not found" is an answer, not a failure: the venue's <paramref name="absentCode"/> (e.g. -2013
    /// "Order does not exist.") returns null, without an exception or a warning. Every order is looked up by its client
    /// id before it is placed (the durable idempotency check), so that answer is the normal one.
    /// </summary>
    public Task<T?> SendOrAbsentAsync<T>(VenueRequest request, JsonTypeInfo<T> type, int absentCode, CancellationToken ct)
        where T : class
    {
        ArgumentOutOfRangeException.ThrowIfZero(absentCode);
        return SendCoreAsync(request, type, absentCode, ct);
    }

    private async Task<T?> SendCoreAsync<T>(VenueRequest request, JsonTypeInfo<T> type, int absentCode, CancellationToken ct)
    {
        if (request.Signed && !HasCredentials)
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidApiKey, "Binance:ApiKey",
                "a signed endpoint needs Binance:ApiKey and Binance:ApiSecret");
        }

        var resynced = false;
        var resyncNow = false;
        var rateLimitRetries = 0;
        var transientRetries = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (request.Signed && (resyncNow || !Clock.IsSynced))
            {
                resyncNow = false;
                try
                {
                    await SyncClockAsync(request, ct).ConfigureAwait(false);
                }
                catch (BinanceRateLimitException e) when (transientRetries > 0)
                {
                    // The sync before a retry was refused (not sent), but the first attempt's outcome is unknown.
                    throw new BinanceUnavailableException(request.Endpoint,
                        "the first attempt's outcome is unknown and its retry was refused: " + e.Message, e);
                }
            }

            try
            {
                return await SendOnceAsync(request, type, absentCode, ct).ConfigureAwait(false);
            }
            catch (BinanceApiException e) when (e.Code == BinanceErrors.InvalidTimestamp && request.Signed && !resynced)
            {
                // The venue refused on timing alone, so nothing executed: re-sync and send again, once.
                LogResync(_logger, request.Endpoint);
                resynced = true;
                resyncNow = true;
            }
            catch (BinanceRateLimitException e) when (!e.IsBan && rateLimitRetries < 2 && e.RetryAt - _time.GetUtcNow() <= _options.MaxRetryAfterWait
                && !(e.RetryAt - _time.GetUtcNow() > VenueHoldLimit.Current))
            {
                // 429 means "not executed"; WaitTurnAsync sleeps until Retry-After before the next attempt.
                rateLimitRetries++;
            }
            catch (BinanceRateLimitException e) when (transientRetries > 0)
            {
                // The retry was not sent (or refused), but the first attempt's outcome is unknown: a change (a leverage, a
                // margin type) may have been applied. Not "not sent".
                throw new BinanceUnavailableException(request.Endpoint,
                    "the first attempt's outcome is unknown and its retry was refused: " + e.Message, e);
            }
            catch (OutcomeUnknownException e) when (!request.IsOrder && transientRetries < 1 && !ct.IsCancellationRequested)
            {
                transientRetries++;
                LogTransientRetry(_logger, request.Endpoint, e.Reason);
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false);
            }
            catch (OutcomeUnknownException e) when (!request.IsOrder)
            {
                throw new BinanceUnavailableException(request.Endpoint, e.Reason, e.InnerException);
            }
        }
    }

    /// <summary>
    /// Re-syncs the clock offset. A failure here happens before <paramref name="request"/> is (re)sent, so it is a
    /// plain "venue unavailable": for an order it means the order was not sent by this step.
    /// </summary>
    private async Task SyncClockAsync(VenueRequest request, CancellationToken ct)
    {
        var stamp = Clock.SyncStamp;
        // The sync's read is urgent and unbounded (every signed request waits on it, whoever started it), so a request
        // with a hold limit does not start one, or queue behind one, that would be held longer than it may wait: refused
        // at once, not sent. The time the sync takes counts against its budget.
        var holdLimit = VenueHoldLimit.Current;
        if (holdLimit is { } mayWait && Governor.HoldFor(1, VenuePriority.Urgent) is var held && held > mayWait)
        {
            VenueRateMetrics.Refused(request.Endpoint, "hold_limit", VenueRequestPriority.Current);
            throw new BinanceRateLimitException(429, _time.GetUtcNow() + held, request.Endpoint,
                $"not sent: the clock sync (GET fapi/v1/time) it needs first would be held for {held.TotalSeconds:0.#} s, longer than this request may wait ({mayWait.TotalSeconds:0.#} s)")
            { RetryAfter = held };
        }

        using var holding = VenueHoldLimit.Hold(_time);
        try
        {
            await Clock.SyncAsync(async token =>
            {
                // Every signed request of every priority waits on this one read (weight 1), whoever started it.
                using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
                using var unbounded = VenueHoldLimit.Enter(null);
                var dto = await SendOnceAsync(new VenueRequest(HttpMethod.Get, "fapi/v1/time", signed: false, weight: 1), VenueJsonContext.Default.ServerTimeDto, 0, token)
                    .ConfigureAwait(false);
                return BinanceParse.Required("time", "serverTime", dto!.ServerTime);
            }, stamp, ct).ConfigureAwait(false);
        }
        catch (OutcomeUnknownException e)
        {
            throw new BinanceUnavailableException(request.Endpoint, "clock sync (GET fapi/v1/time) failed: " + e.Reason, e.InnerException);
        }
    }
}
