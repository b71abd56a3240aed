using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Signing;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
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

    private async Task<SymbolInfo> RequireSymbolAsync(string symbol, CancellationToken ct)
    {
        RequireSymbolText(symbol);
        var info = await _instruments.ExchangeInfoAsync(GetExchangeInfoAsync, ct).ConfigureAwait(false);
        return info.Find(symbol)
            ?? throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidSymbol, "symbol", $"'{symbol}' is not listed on the venue");
    }
}
