using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Signing;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal.Http;

// BinanceTransport's one attempt: the request built, signed and sent, and its answer turned into a result or an error.
internal sealed partial class BinanceTransport
{
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
}
