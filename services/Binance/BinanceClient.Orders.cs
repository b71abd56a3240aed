using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Internal.Http;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Signing;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    private static readonly TimeSpan[] LookupBackoff = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(1)];

    /// <summary>
    /// Places a MARKET or LIMIT order with <c>newClientOrderId</c> derived from <paramref name="idempotencyKey"/>.
    /// After an unknown outcome (5xx, timeout, dropped connection) the order is looked up by that id first and
    /// sent again only when the venue says it does not exist, so one key never yields two orders.
    /// </summary>
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

        var (dto, attempts, recovered) = await PlaceIdempotentAsync(
            request,
            VenueJsonContext.Default.OrderDto,
            token => GetOrderDtoAsync(order.Symbol, clientOrderId, token),
            order.Symbol,
            clientOrderId,
            ct).ConfigureAwait(false);
        return new OrderPlacement(BinanceParse.Order(dto), attempts, recovered);
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

        var (dto, _, _) = await PlaceIdempotentAsync(
            request,
            VenueJsonContext.Default.AlgoOrderDto,
            token => GetAlgoOrderDtoAsync(clientAlgoId, token),
            order.Symbol,
            clientAlgoId,
            ct).ConfigureAwait(false);
        return BinanceParse.AlgoOrder(dto);
    }

    public async Task<OrderInfo?> GetOrderAsync(string symbol, string clientOrderId, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var dto = await GetOrderDtoAsync(symbol, clientOrderId, ct).ConfigureAwait(false);
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

    private async Task<OrderDto?> GetOrderDtoAsync(string symbol, string clientOrderId, CancellationToken ct)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/order", 1).Add("symbol", symbol).Add("origClientOrderId", clientOrderId);
        try
        {
            return await _transport.SendAsync(request, VenueJsonContext.Default.OrderDto, ct).ConfigureAwait(false);
        }
        catch (BinanceApiException e) when (e.Code == BinanceErrors.NoSuchOrder)
        {
            return null;
        }
    }

    private async Task<AlgoOrderDto?> GetAlgoOrderDtoAsync(string clientAlgoId, CancellationToken ct)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v1/algoOrder", 1).Add("clientAlgoId", clientAlgoId);
        try
        {
            return await _transport.SendAsync(request, VenueJsonContext.Default.AlgoOrderDto, ct).ConfigureAwait(false);
        }
        catch (BinanceApiException e) when (e.Code == BinanceErrors.NoSuchOrder)
        {
            return null;
        }
    }

    /// <summary>
    /// Send; on an unknown outcome look the order up by its client id (a few times, backing off) and return it if
    /// it exists; send again only after the venue said it does not. A duplicate-id rejection also resolves by look-up.
    /// </summary>
    private async Task<(T Dto, int Attempts, bool Recovered)> PlaceIdempotentAsync<T>(
        VenueRequest request,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type,
        Func<CancellationToken, Task<T?>> lookup,
        string symbol,
        string clientId,
        CancellationToken ct)
        where T : class
    {
        using var activity = BinanceTransport.ActivitySource.StartActivity("binance place " + request.Path);
        activity?.SetTag("binance.symbol", symbol);
        activity?.SetTag("binance.client_order_id", clientId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await _transport.SendAsync(request, type, ct).ConfigureAwait(false), attempt, false);
            }
            catch (BinanceApiException e) when (e.Code == BinanceErrors.DuplicatedClientOrderId)
            {
                var existing = await lookup(ct).ConfigureAwait(false);
                if (existing is not null)
                {
                    return (existing, attempt, true);
                }

                throw;
            }
            catch (OutcomeUnknownException e)
            {
                LogOrderOutcomeUnknown(_logger, symbol, clientId, attempt, e.Reason);
                var found = await LookupAfterUnknownAsync(lookup, symbol, clientId, e, ct).ConfigureAwait(false);
                if (found is not null)
                {
                    activity?.SetTag("binance.recovered_by_lookup", true);
                    return (found, attempt, true);
                }

                if (attempt >= _options.MaxOrderAttempts)
                {
                    throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
                }

                // The venue says the order does not exist: sending it again (same client id) cannot duplicate it.
            }
        }
    }

    private async Task<T?> LookupAfterUnknownAsync<T>(
        Func<CancellationToken, Task<T?>> lookup, string symbol, string clientId, Exception cause, CancellationToken ct)
        where T : class
    {
        foreach (var delay in LookupBackoff)
        {
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            try
            {
                return await lookup(ct).ConfigureAwait(false);
            }
            catch (BinanceException e) when (e is BinanceUnavailableException or BinanceRateLimitException)
            {
                LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
            }
        }

        throw new BinanceUnknownOrderOutcomeException(symbol, clientId, cause);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Look-up of order {ClientOrderId} on {Symbol} failed ({Error})")]
    private static partial void LogLookupFailed(ILogger logger, string symbol, string clientOrderId, string error);
}
