using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Http;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    /// <summary>
    /// Sends an order and settles an unknown outcome without ever creating a second order for one client id.
    /// </summary>
    /// <remarks>
    /// The rule, and why: on Binance a 5xx, -1000/-1001/-1006/-1007, a timeout or a dropped connection means the
    /// order may still be queued and execute later, and a "does not exist" (-2013) answer only says it has not
    /// executed YET. Binance USD-M refuses a reused <c>newClientOrderId</c> only while the first order is open
    /// ("a unique id among open orders"), so a resend after the original filled would be accepted: a double position.
    /// What bounds the original is its own <c>timestamp</c>: the venue rejects a request it handles after
    /// <c>timestamp + recvWindow</c>. So after an unknown outcome the client:
    /// <list type="number">
    /// <item>looks the order up by client id, backing off, and returns it as soon as it exists;</item>
    /// <item>takes "does not exist" as final only from a look-up sent after <c>timestamp + recvWindow + margin</c>
    /// (venue clock), when the original can no longer execute: the order was not placed. By default
    /// (<see cref="BinanceOptions.MaxOrderAttempts"/> = 1) that is reported as <see cref="BinanceUnavailableException"/>;
    /// with more attempts allowed the same request is sent again with the same id;</item>
    /// <item>turns every other failure once a copy may have reached the venue (a look-up refused with any code, an
    /// unreadable answer, the caller's cancellation, look-ups still failing after the window) into
    /// <see cref="BinanceUnknownOrderOutcomeException"/> carrying the client id, so the caller reconciles.</item>
    /// </list>
    /// A failure before any copy left (clock sync, a rate-limit hold) or a definite rejection propagates as is.
    /// </remarks>
    private async Task<(TResult Result, int Attempts, bool Recovered)> PlaceIdempotentAsync<TDto, TResult>(
        VenueRequest request,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TDto> type,
        Func<TDto, TResult> parse,
        Func<CancellationToken, Task<TDto?>> lookup,
        string symbol,
        string clientId,
        Func<TResult, bool> isThisOrder,
        CancellationToken ct)
        where TDto : class
    {
        using var activity = BinanceTransport.ActivitySource.StartActivity("binance place " + request.Path);
        activity?.SetTag("binance.symbol", symbol);
        activity?.SetTag("binance.client_order_id", clientId);
        if (_inDoubt.TryGetValue((symbol, clientId), out var inDoubtUntil))
        {
            // An earlier call left this id's order in doubt, and a copy it sent may still execute: a look-up now could
            // say "does not exist" for an order that fills a moment later, and a send would then make a second one.
            var earlier = await SettleInDoubtAsync(inDoubtUntil, lookup, symbol, clientId, ct).ConfigureAwait(false);
            if (earlier is not null)
            {
                // The earlier call may have been another order under the same id (a close, then an open): that one is
                // not this order's answer, and this one cannot be sent under its id.
                var found = ThisOrder(ParseOrUnknown(parse, earlier, symbol, clientId), isThisOrder, symbol, clientId,
                    "placed by an earlier call whose outcome was in doubt; nothing was sent");
                activity?.SetTag("binance.recovered_by_lookup", true);
                return (found, 1, true);
            }
        }

        try
        {
            return await SendIdempotentAsync(request, type, parse, lookup, symbol, clientId, isThisOrder, activity, ct).ConfigureAwait(false);
        }
        catch (BinanceUnknownOrderOutcomeException)
        {
            // Until its copies' recvWindow has passed, a call with this id waits and looks first (SettleInDoubtAsync).
            RememberInDoubt(symbol, clientId, InDoubtUntil(request));
            throw;
        }
    }

    /// <summary>
    /// <paramref name="found"/>, the order the venue holds under this call's id, when it is this call's order; another
    /// order under the id (a close, then an open) is not this one's answer, and this one cannot be sent under its id.
    /// </summary>
    private static TResult ThisOrder<TResult>(TResult found, Func<TResult, bool> isThisOrder, string symbol, string clientId, string how) =>
        isThisOrder(found)
            ? found
            : throw new BinanceRequestRefusedException(BinanceErrorKind.DuplicateClientOrderId, "clientOrderId",
                $"{clientId} is already another order on {symbol}, {how}");

    private async Task<(TResult Result, int Attempts, bool Recovered)> SendIdempotentAsync<TDto, TResult>(
        VenueRequest request,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TDto> type,
        Func<TDto, TResult> parse,
        Func<CancellationToken, Task<TDto?>> lookup,
        string symbol,
        string clientId,
        Func<TResult, bool> isThisOrder,
        System.Diagnostics.Activity? activity,
        CancellationToken ct)
        where TDto : class
    {
        for (var attempt = 1; ; attempt++)
        {
            Exception cause;
            try
            {
                var dto = await _transport.SendAsync(request, type, ct).ConfigureAwait(false);
                return (parse(dto), attempt, false);
            }
            catch (BinanceApiException e) when (e.Code == BinanceErrors.DuplicatedClientOrderId && !request.MayHaveExecuted)
            {
                // An open order already carries this id: an earlier call with the same key, whose order is the answer, or
                // another order under the same id (another side, quantity or type), which is not this one's answer and
                // keeps this one from being sent under its id.
                var existing = await LookupOnceAsync(lookup, symbol, clientId, e, ct).ConfigureAwait(false);
                if (existing is not null)
                {
                    var open = ThisOrder(ParseOrUnknown(parse, existing, symbol, clientId), isThisOrder, symbol, clientId,
                        "an open one (the venue refused this one as a duplicate id); nothing was placed");
                    return (open, attempt, true);
                }

                throw;
            }
            catch (Exception e) when (request.MayHaveExecuted)
            {
                cause = e;
            }

            if (ct.IsCancellationRequested)
            {
                throw new BinanceUnknownOrderOutcomeException(symbol, clientId, cause);
            }

            LogOrderOutcomeUnknown(_logger, symbol, clientId, attempt, cause is OutcomeUnknownException u ? u.Reason : cause.GetType().Name);
            var found = await ResolveUnknownOutcomeAsync(request, lookup, symbol, clientId, cause, ct).ConfigureAwait(false);
            if (found is not null)
            {
                activity?.SetTag("binance.recovered_by_lookup", true);
                return (ParseOrUnknown(parse, found, symbol, clientId), attempt, true);
            }

            // Proven: the venue handled no copy in time, and none can execute any more.
            if (attempt >= _options.MaxOrderAttempts)
            {
                throw new BinanceUnavailableException(request.Endpoint,
                    $"order {clientId} was not placed (outcome unknown, then not found after its recvWindow expired); it is safe to send again with the same key", cause);
            }

            LogResendAfterExpiry(_logger, symbol, clientId, attempt + 1);
            request.MayHaveExecuted = false;
        }
    }

    private static TResult ParseOrUnknown<TDto, TResult>(Func<TDto, TResult> parse, TDto dto, string symbol, string clientId)
    {
        try
        {
            return parse(dto);
        }
        catch (BinanceProtocolException e)
        {
            throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol}: outcome unknown on attempt {Attempt} ({Reason}); looking it up before any resend")]
    private static partial void LogOrderOutcomeUnknown(ILogger logger, string symbol, string clientOrderId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol} was not placed and can no longer execute; sending it again (attempt {Attempt}) with the same id")]
    private static partial void LogResendAfterExpiry(ILogger logger, string symbol, string clientOrderId, int attempt);
}
