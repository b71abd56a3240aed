using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Signing;
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

    private async Task<T?> SendOnceAsync<T>(VenueRequest request, JsonTypeInfo<T> type, int absentCode, CancellationToken ct)
    {
        var priority = VenueRequestPriority.Current;
        using (VenueHoldLimit.Hold(_time))
        {
            await Governor.WaitTurnAsync(request.Weight, request.IsOrder, request.Endpoint, ct, request.FundingRoute, priority, VenueHoldLimit.Current)
                .ConfigureAwait(false);
        }

        using var activity = ActivitySource.StartActivity("binance " + request.Endpoint, ActivityKind.Client);
        activity?.SetTag("binance.endpoint", request.Endpoint);
        activity?.SetTag("binance.priority", VenueRequestPriority.ToWire(priority));
        if (request.Get("symbol") is { } symbol)
        {
            activity?.SetTag("binance.symbol", symbol);
        }

        using var message = BuildMessage(request);
        // From here a copy may reach the venue: until a definite answer says otherwise, an order may have executed.
        request.MayHaveExecuted = true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            LogUnknownOutcome(_logger, request.Endpoint, "timeout");
            throw new OutcomeUnknownException(request.Endpoint, "timeout", e);
        }
        catch (HttpRequestException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "transport");
            LogUnknownOutcome(_logger, request.Endpoint, e.HttpRequestError.ToString());
            throw new OutcomeUnknownException(request.Endpoint, "connection: " + e.HttpRequestError, e);
        }

        using (response)
        {
            ObserveHeaders(response);
            var status = (int)response.StatusCode;
            activity?.SetTag("http.response.status_code", status);
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                throw new OutcomeUnknownException(request.Endpoint, "response body lost", e);
            }

            if (response.IsSuccessStatusCode)
            {
                try
                {
                    // A 200 on an order means it executed; MayHaveExecuted stays true so a body the caller cannot
                    // read either is still resolved by look-up, never reported as a rejection.
                    return JsonSerializer.Deserialize(body, type) ?? throw new BinanceProtocolException(request.Endpoint, "body", "null");
                }
                catch (JsonException e)
                {
                    throw new BinanceProtocolException(request.Endpoint, e.Path ?? "body", "not the documented shape", e);
                }
            }

            if (response.StatusCode is HttpStatusCode.TooManyRequests || status == 418)
            {
                // 429/418: refused, nothing executed.
                request.MayHaveExecuted = false;
                var retryAt = _time.GetUtcNow() + RetryAfter(response, Clock.ServerNow());
                // A funding route's 429 is their own limit, unless the venue says the IP's weight is over its limit: then
                // it is the weight's, and every request backs off (sending on into 429s is what a venue bans an IP for).
                var fundingLimitOnly = request.FundingRoute && !Governor.IsOverWeightLimit(Header(response, "X-MBX-USED-WEIGHT-1M"));
                Governor.BackOff(status, retryAt, fundingLimitOnly);
                activity?.SetStatus(ActivityStatusCode.Error, status.ToString(CultureInfo.InvariantCulture));
                LogRateLimited(_logger, request.Endpoint, status, retryAt);
                throw new BinanceRateLimitException(status, retryAt, request.Endpoint) { RetryAfter = retryAt - _time.GetUtcNow() };
            }

            var error = TryReadError(body);
            var outcomeUnknown = request.IsOrder
                ? !BinanceErrors.IsDefiniteRejection(error?.Code ?? 0)
                : error is null || BinanceErrors.IsUnknownOutcome(error.Code);
            if (status >= 500 || outcomeUnknown || error is null)
            {
                // Binance: a 5xx (notably 503 "Unknown error, please check your request or try again later.")
                // means the request may or may not have executed. On an order, so does any code that is not on the
                // allowlist of definite rejections (-1006, -1007, a code we have never seen, a body we cannot read).
                activity?.SetStatus(ActivityStatusCode.Error, status.ToString(CultureInfo.InvariantCulture));
                LogUnknownOutcome(_logger, request.Endpoint, "HTTP " + status.ToString(CultureInfo.InvariantCulture));
                throw new OutcomeUnknownException(request.Endpoint, "HTTP " + status.ToString(CultureInfo.InvariantCulture));
            }

            request.MayHaveExecuted = false;
            activity?.SetTag("binance.error_code", error.Code);
            if (absentCode != 0 && error.Code == absentCode && !request.IsOrder)
            {
                // The look-up's "not found": the answer the caller asked for, not an error of this span.
                LogAbsent(_logger, request.Endpoint, error.Code);
                return default;
            }

            activity?.SetStatus(ActivityStatusCode.Error, error.Code.ToString(CultureInfo.InvariantCulture));
            LogRejected(_logger, request.Endpoint, status, error.Code);
            throw new BinanceApiException(error.Code, error.Msg ?? BinanceErrors.MessageOf(error.Code), status, request.Endpoint);
        }
    }

    private HttpRequestMessage BuildMessage(VenueRequest request)
    {
        long? timestamp = request.Signed ? Clock.ServerNowMilliseconds() : null;
        request.LastSentTimestamp = timestamp ?? request.LastSentTimestamp;
        var query = request.BuildQuery(timestamp, _options.RecvWindow);
        if (request.Signed)
        {
            var signature = BinanceSigner.Sign(_secret, query);
            query = query + "&signature=" + signature;
        }

        HttpRequestMessage message;
        if (request.Method == HttpMethod.Post || request.Method == HttpMethod.Put)
        {
            // Parameters travel in the form body, so the signature never sits in a URL that a log or trace could keep.
            message = new HttpRequestMessage(request.Method, request.Path)
            {
                Content = new StringContent(query, Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
        }
        else
        {
            message = new HttpRequestMessage(request.Method, query.Length == 0 ? request.Path : request.Path + "?" + query);
        }

        if (request.Signed)
        {
            message.Headers.TryAddWithoutValidation("X-MBX-APIKEY", _apiKey);
        }

        return message;
    }

    private void ObserveHeaders(HttpResponseMessage response)
    {
        Governor.Observe(Header(response, "X-MBX-USED-WEIGHT-1M"), Header(response, "X-MBX-ORDER-COUNT-10S"), Header(response, "X-MBX-ORDER-COUNT-1M"));
    }

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>How long Retry-After asks for. A date is the venue's clock, so it is measured against our estimate of it
    /// (the injected <see cref="TimeProvider"/> plus the synced offset), never the machine's wall clock.</summary>
    private static TimeSpan RetryAfter(HttpResponseMessage response, DateTimeOffset venueNow)
    {
        if (response.Headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta)
            {
                return delta;
            }

            if (ra.Date is { } date)
            {
                var d = date - venueNow;
                return d > TimeSpan.Zero ? d : TimeSpan.Zero;
            }
        }

        // No Retry-After: back off a full minute rather than hammer.
        return TimeSpan.FromMinutes(1);
    }

    private static ErrorDto? TryReadError(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, VenueJsonContext.Default.ErrorDto);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Binance {Endpoint}: not found (code {Code})")]
    private static partial void LogAbsent(ILogger logger, string endpoint, int code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint} rejected the request: HTTP {Status}, code {Code}")]
    private static partial void LogRejected(ILogger logger, string endpoint, int status, int code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint} rate limited (HTTP {Status}); no request before {RetryAt}")]
    private static partial void LogRateLimited(ILogger logger, string endpoint, int status, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint}: outcome unknown ({Reason})")]
    private static partial void LogUnknownOutcome(ILogger logger, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Binance {Endpoint} answered -1021; re-syncing the clock offset")]
    private static partial void LogResync(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Binance {Endpoint} failed ({Reason}); retrying once")]
    private static partial void LogTransientRetry(ILogger logger, string endpoint, string reason);
}
