using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Internal.Http;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Signing;
using TradeEngine.Domain;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    /// <summary>Pauses between look-ups of an order whose outcome is unknown; the last one repeats.</summary>
    private static readonly TimeSpan[] LookupBackoff =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(1)];

    /// <summary>Failed look-ups tolerated once the order can no longer execute, before giving up as unknown.</summary>
    private const int LookupFailuresAfterExpiry = 2;

    /// <summary>
    /// Places a MARKET or LIMIT order with <c>newClientOrderId</c> derived from <paramref name="idempotencyKey"/>.
    /// After an unknown outcome (5xx, timeout, dropped connection, an unlisted error code, an unreadable 200) the
    /// order is looked up by that id until it is found or can no longer execute; see <see cref="PlaceIdempotentAsync"/>.
    /// </summary>
    /// <remarks>
    /// Within one call a key never yields two orders. Across calls the venue only helps while the first order is open:
    /// Binance accepts the id of a filled or cancelled order again, so a caller repeating a key looks it up first
    /// (<see cref="GetOrderAsync"/>).
    /// </remarks>
    /// <exception cref="BinanceUnknownOrderOutcomeException">The outcome could not be settled; reconcile by client order id.</exception>
    /// <exception cref="BinanceUnavailableException">The order was definitely not placed (never sent, or proven expired); safe to retry with the same key.</exception>
    /// <exception cref="BinanceApiException">A definite rejection: nothing executed.</exception>
    public async Task<OrderPlacement> PlaceOrderAsync(NewOrder order, string idempotencyKey, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        var clientOrderId = ClientOrderIds.FromIdempotencyKey(idempotencyKey);
        var symbol = await RequireSymbolAsync(order.Symbol, ct).ConfigureAwait(false);
        OrderValidation.Validate(order, symbol);

        var request = SignedRequest(HttpMethod.Post, "fapi/v1/order", 0, isOrder: true)
            .Add("symbol", order.Symbol)
            .Add("side", VenueText.Side(order.Side))
            .Add("type", VenueText.Type(order.Type))
            .Add("quantity", order.Quantity)
            .Add("price", order.Type == OrderType.Limit ? order.Price : null)
            .Add("timeInForce", order.Type == OrderType.Limit ? VenueText.Tif(order.TimeInForce ?? TimeInForce.Gtc) : null)
            .Add("reduceOnly", order.ReduceOnly ? "true" : null)
            .Add("newClientOrderId", clientOrderId)
            .Add("newOrderRespType", "RESULT");

        var (placed, attempts, recovered) = await PlaceIdempotentAsync(
            request,
            VenueJsonContext.Default.OrderDto,
            BinanceParse.Order,
            token => GetOrderDtoAsync(order.Symbol, clientOrderId, token),
            order.Symbol,
            clientOrderId,
            found => found.Side == order.Side && string.Equals(found.Type, VenueText.Type(order.Type), StringComparison.Ordinal)
                     && found.ReduceOnly == order.ReduceOnly && found.OrigQty == order.Quantity,
            ct).ConfigureAwait(false);
        return new OrderPlacement(placed, attempts, recovered);
    }

    /// <summary>
    /// Places a STOP_MARKET / TAKE_PROFIT_MARKET through the Algo Order API (<c>POST /fapi/v1/algoOrder</c>,
    /// algoType CONDITIONAL), where Binance's current documentation puts conditional orders. Same unknown-outcome
    /// rule as <see cref="PlaceOrderAsync"/>, keyed by <c>clientAlgoId</c>.
    /// </summary>
    public async Task<ConditionalOrderInfo> PlaceConditionalOrderAsync(NewConditionalOrder order, string idempotencyKey, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        var clientAlgoId = ClientOrderIds.FromIdempotencyKey(idempotencyKey);
        var symbol = await RequireSymbolAsync(order.Symbol, ct).ConfigureAwait(false);
        OrderValidation.Validate(order, symbol);

        var request = SignedRequest(HttpMethod.Post, "fapi/v1/algoOrder", 0, isOrder: true)
            .Add("algoType", "CONDITIONAL")
            .Add("symbol", order.Symbol)
            .Add("side", VenueText.Side(order.Side))
            .Add("type", VenueText.Type(order.Type))
            .Add("triggerPrice", order.TriggerPrice)
            .Add("workingType", VenueText.Working(order.WorkingType))
            .Add("closePosition", order.ClosePosition ? "true" : null)
            .Add("quantity", order.ClosePosition ? null : order.Quantity)
            .Add("reduceOnly", order.ClosePosition ? null : "true")
            .Add("clientAlgoId", clientAlgoId);

        var (placed, _, _) = await PlaceIdempotentAsync(
            request,
            VenueJsonContext.Default.AlgoOrderDto,
            BinanceParse.AlgoOrder,
            token => GetAlgoOrderDtoAsync(clientAlgoId, token),
            order.Symbol,
            clientAlgoId,
            found => found.Side == order.Side && found.Type == order.Type && found.TriggerPrice == order.TriggerPrice
                     && found.ClosePosition == order.ClosePosition && (order.ClosePosition || found.Quantity == order.Quantity),
            ct).ConfigureAwait(false);
        return placed;
    }

    public async Task<OrderInfo?> GetOrderAsync(string symbol, string clientOrderId, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var dto = await GetOrderDtoAsync(symbol, clientOrderId, ct).ConfigureAwait(false);
        return dto is null ? null : BinanceParse.Order(dto);
    }

    public async Task<OrderInfo?> GetOrderByIdAsync(string symbol, long orderId, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(orderId);
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/order", 1).Add("symbol", symbol).Add("orderId", (long?)orderId);
        var dto = await _transport.SendOrAbsentAsync(request, VenueJsonContext.Default.OrderDto, BinanceErrors.NoSuchOrder, ct).ConfigureAwait(false);
        return dto is null ? null : BinanceParse.Order(dto);
    }

    public async Task<ConditionalOrderInfo?> GetConditionalOrderAsync(string clientAlgoId, CancellationToken ct = default)
    {
        var dto = await GetAlgoOrderDtoAsync(clientAlgoId, ct).ConfigureAwait(false);
        return dto is null ? null : BinanceParse.AlgoOrder(dto);
    }

    public async Task<IReadOnlyList<OrderInfo>> GetOpenOrdersAsync(string? symbol = null, CancellationToken ct = default)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/openOrders", symbol is null ? 40 : 1).Add("symbol", symbol);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListOrderDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.Order).ToList();
    }

    public async Task<IReadOnlyList<ConditionalOrderInfo>> GetOpenConditionalOrdersAsync(string? symbol = null, CancellationToken ct = default)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/openAlgoOrders", symbol is null ? 40 : 1).Add("symbol", symbol);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListAlgoOrderDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.AlgoOrder).ToList();
    }

    public async Task CancelAllOpenOrdersAsync(string symbol, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var request = SignedRequest(HttpMethod.Delete, "fapi/v1/allOpenOrders", 1).Add("symbol", symbol);
        await _transport.SendAsync(request, VenueJsonContext.Default.CodeMsgDto, ct).ConfigureAwait(false);
    }

    public async Task CancelAllOpenConditionalOrdersAsync(string symbol, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var request = SignedRequest(HttpMethod.Delete, "fapi/v1/algoOpenOrders", 1).Add("symbol", symbol);
        await _transport.SendAsync(request, VenueJsonContext.Default.CodeMsgDto, ct).ConfigureAwait(false);
    }

    public async Task<bool> CancelConditionalOrderAsync(string clientAlgoId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientAlgoId);
        var request = SignedRequest(HttpMethod.Delete, "fapi/v1/algoOrder", 1).Add("clientAlgoId", clientAlgoId);
        var dto = await _transport.SendOrAbsentAsync(request, VenueJsonContext.Default.AlgoCancelDto, BinanceErrors.CancelRejected, ct).ConfigureAwait(false);
        if (dto is null)
        {
            return false;
        }

        if (dto.AlgoId is not > 0 || !string.Equals(dto.ClientAlgoId, clientAlgoId, StringComparison.Ordinal))
        {
            throw new BinanceProtocolException("algoOrder", "clientAlgoId", $"a cancel of {clientAlgoId} was answered for '{dto.ClientAlgoId}' (algoId {dto.AlgoId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"})");
        }

        var code = dto.Code.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => dto.Code.GetString(),
            System.Text.Json.JsonValueKind.Number => dto.Code.GetRawText(),
            _ => null,
        };
        if (code != "200")
        {
            throw new BinanceProtocolException("algoOrder", "code", $"a cancel of {clientAlgoId} was answered with code '{code}' ('{dto.Msg}')");
        }

        return true;
    }

    private async Task<OrderDto?> GetOrderDtoAsync(string symbol, string clientOrderId, CancellationToken ct)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/order", 1).Add("symbol", symbol).Add("origClientOrderId", clientOrderId);
        return await _transport.SendOrAbsentAsync(request, VenueJsonContext.Default.OrderDto, BinanceErrors.NoSuchOrder, ct).ConfigureAwait(false);
    }

    private async Task<AlgoOrderDto?> GetAlgoOrderDtoAsync(string clientAlgoId, CancellationToken ct)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/algoOrder", 1).Add("clientAlgoId", clientAlgoId);
        return await _transport.SendOrAbsentAsync(request, VenueJsonContext.Default.AlgoOrderDto, BinanceErrors.NoSuchOrder, ct).ConfigureAwait(false);
    }

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

    /// <summary>The most ids kept in doubt; past it, those whose copies can no longer execute are forgotten first.</summary>
    private const int MaxInDoubt = 10_000;

    // Client order ids (per symbol, as Binance keeps them) whose order a call left in doubt (it threw
    // BinanceUnknownOrderOutcomeException), with the venue-clock millisecond until which a copy it sent may still execute.
    // In memory: a restart takes longer than a recvWindow.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Symbol, string ClientId), long> _inDoubt = new();

    /// <summary>The venue-clock millisecond after which no copy of <paramref name="request"/> can execute any more.</summary>
    private long InDoubtUntil(VenueRequest request) =>
        (request.LastSentTimestamp ?? _transport.Clock.ServerNowMilliseconds()) + _options.RecvWindow + (long)_options.UnknownOutcomeMargin.TotalMilliseconds;

    private void RememberInDoubt(string symbol, string clientId, long until)
    {
        if (_inDoubt.Count >= MaxInDoubt)
        {
            var now = _transport.Clock.ServerNowMilliseconds();
            foreach (var expired in _inDoubt.Where(e => e.Value < now).Select(e => e.Key).ToList())
            {
                _inDoubt.TryRemove(expired, out _);
            }
        }

        _inDoubt[(symbol, clientId)] = until;
    }

    /// <summary>
    /// For an id an earlier call left in doubt: waits until no copy that call sent can execute any more, then looks the
    /// order up. Found: it is the answer (no order is sent). Not found: nothing of the earlier call executed, and the id is
    /// free to send. A look-up that fails (or the caller's cancellation while waiting) keeps it in doubt:
    /// <see cref="BinanceUnknownOrderOutcomeException"/>.
    /// </summary>
    private async Task<TDto?> SettleInDoubtAsync<TDto>(
        long until, Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, CancellationToken ct)
        where TDto : class
    {
        // An order that may be at the venue is risk either way: urgent, and waiting as long as it must.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        try
        {
            var wait = until - _transport.Clock.ServerNowMilliseconds();
            if (wait > 0)
            {
                LogWaitingOutInDoubt(_logger, symbol, clientId, wait);
                await Task.Delay(TimeSpan.FromMilliseconds(wait), _time, ct).ConfigureAwait(false);
            }

            var found = await lookup(ct).ConfigureAwait(false);
            _inDoubt.TryRemove(new KeyValuePair<(string, string), long>((symbol, clientId), until));
            return found;
        }
        catch (Exception e) when (e is not BinanceUnknownOrderOutcomeException)
        {
            LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
            throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
        }
    }

    /// <summary>
    /// Looks the order up until it exists (returned) or a look-up sent after every copy expired says it does not
    /// (null). Throws <see cref="BinanceUnknownOrderOutcomeException"/> when neither can be established.
    /// </summary>
    private async Task<TDto?> ResolveUnknownOutcomeAsync<TDto>(
        VenueRequest request, Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, Exception cause, CancellationToken ct)
        where TDto : class
    {
        // An order that may have executed is risk either way: its look-ups are urgent at the venue's limits and wait as long
        // as they must, whatever the caller's priority and hold limit.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);

        // Venue-clock millisecond after which no copy of the order can execute any more.
        var expiry = (request.LastSentTimestamp ?? _transport.Clock.ServerNowMilliseconds())
            + _options.RecvWindow + (long)_options.UnknownOutcomeMargin.TotalMilliseconds;
        var failuresAfterExpiry = 0;
        for (var i = 0; ; i++)
        {
            try
            {
                await Task.Delay(LookupBackoff[Math.Min(i, LookupBackoff.Length - 1)], _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
            }

            var expired = _transport.Clock.ServerNowMilliseconds() > expiry;
            try
            {
                var found = await lookup(ct).ConfigureAwait(false);
                if (found is not null || expired)
                {
                    return found;
                }
            }
            catch (BinanceException e) when ((e is BinanceUnavailableException or BinanceRateLimitException) && !ct.IsCancellationRequested)
            {
                LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
                if (expired && ++failuresAfterExpiry >= LookupFailuresAfterExpiry)
                {
                    throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
                }
            }
            catch (Exception e)
            {
                // A refused look-up (-1021 after a re-sync, -1022, -2015), an unreadable answer or the caller's
                // cancellation: waiting will not settle it, and it says nothing about the order. The caller reconciles.
                LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
                throw new BinanceUnknownOrderOutcomeException(symbol, clientId, new AggregateException(cause, e));
            }
        }
    }

    /// <summary>One look-up where an order with this id is known to exist; any failure leaves its state unknown.</summary>
    private async Task<TDto?> LookupOnceAsync<TDto>(Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, Exception cause, CancellationToken ct)
        where TDto : class
    {
        // An order that may be at the venue is risk either way: urgent, and waiting as long as it must.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        try
        {
            return await lookup(ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
            throw new BinanceUnknownOrderOutcomeException(symbol, clientId, new AggregateException(cause, e));
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

    private async Task<SymbolInfo> RequireSymbolAsync(string symbol, CancellationToken ct)
    {
        RequireSymbolText(symbol);
        var info = await _instruments.ExchangeInfoAsync(GetExchangeInfoAsync, ct).ConfigureAwait(false);
        return info.Find(symbol)
            ?? throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidSymbol, "symbol", $"'{symbol}' is not listed on the venue");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol}: outcome unknown on attempt {Attempt} ({Reason}); looking it up before any resend")]
    private static partial void LogOrderOutcomeUnknown(ILogger logger, string symbol, string clientOrderId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol} was not placed and can no longer execute; sending it again (attempt {Attempt}) with the same id")]
    private static partial void LogResendAfterExpiry(ILogger logger, string symbol, string clientOrderId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol} was left in doubt by an earlier call; waiting {WaitMs} ms, until none of its copies can execute, before looking it up")]
    private static partial void LogWaitingOutInDoubt(ILogger logger, string symbol, string clientOrderId, long waitMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Look-up of order {ClientOrderId} on {Symbol} failed ({Error})")]
    private static partial void LogLookupFailed(ILogger logger, string symbol, string clientOrderId, string error);
}
