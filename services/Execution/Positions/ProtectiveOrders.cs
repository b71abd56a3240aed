using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Mapping;
using DomainSide = TradeEngine.Domain.Side;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// Stop-loss and take-profit as the venue's conditional orders (STOP_MARKET / TAKE_PROFIT_MARKET with closePosition,
/// triggered on the mark price). Their client ids derive from the opening order's id, so a resumed open finds the
/// orders it already placed instead of placing them twice.
/// </summary>
public sealed class ProtectiveOrders(IBinanceClient venue)
{
    public static string StopLossId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "sl");

    public static string TakeProfitId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "tp");

    public Task<ConditionalOrderInfo> PlaceStopLossAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        venue.PlaceConditionalOrderAsync(
            new NewConditionalOrder(symbol, ExecutionWire.ClosingOrder(side), ConditionalOrderType.StopMarket, trigger), key, ct);

    public Task<ConditionalOrderInfo> PlaceTakeProfitAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        venue.PlaceConditionalOrderAsync(
            new NewConditionalOrder(symbol, ExecutionWire.ClosingOrder(side), ConditionalOrderType.TakeProfitMarket, trigger), key, ct);

    /// <summary>Cancels every open order of the symbol, plain and conditional.</summary>
    public async Task CancelAllAsync(string symbol, CancellationToken ct)
    {
        var conditional = venue.CancelAllOpenConditionalOrdersAsync(symbol, ct);
        var plain = venue.CancelAllOpenOrdersAsync(symbol, ct);
        await conditional.ConfigureAwait(false);
        await plain.ConfigureAwait(false);
    }
}
