using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// Execution's venue client with chosen orders reported as still working: from <see cref="Hold"/> until
/// <see cref="Release"/> of a client order id, the answer to its placement and to every look-up of it
/// (<see cref="IBinanceClient.GetOrderAsync"/>) says NEW with nothing filled, as Binance answers an order its matching
/// engine has not finished. Every call still goes to the simulator, which fills the order as it always does: released,
/// the look-ups answer what the simulator holds. <see cref="VenueTap"/> changes every placement's answer once; this
/// keeps one order working for as long as a test chooses.
/// </summary>
public sealed class WorkingOrders
{
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _reads = new(StringComparer.Ordinal);

    /// <summary>Replaces the service collection's <see cref="IBinanceClient"/> with one that reports the held orders as working.</summary>
    public void Install(IServiceCollection services) =>
        VenueProxy.Install(services, real => VenueProxy.Wrap(real, (method, _, call) => method.Name switch
        {
            nameof(IBinanceClient.PlaceOrderAsync) => PlacedAsync((Task<OrderPlacement>)call()!),
            nameof(IBinanceClient.GetOrderAsync) => FoundAsync((Task<OrderInfo?>)call()!),
            _ => call(),
        }));

    /// <summary>From now on the order under <paramref name="clientOrderId"/> (placed already or not yet) is answered as working.</summary>
    public void Hold(string clientOrderId) => _held[clientOrderId] = 0;

    /// <summary>From now on the order under <paramref name="clientOrderId"/> is answered as the simulator holds it.</summary>
    public void Release(string clientOrderId) => _held.TryRemove(clientOrderId, out _);

    /// <summary>How many look-ups of the order were answered "working" (its placement's answer not counted).</summary>
    public int ReadsWhileHeld(string clientOrderId) => _reads.GetValueOrDefault(clientOrderId);

    private async Task<OrderPlacement> PlacedAsync(Task<OrderPlacement> placement)
    {
        var placed = await placement.ConfigureAwait(false);
        return _held.ContainsKey(placed.Order.ClientOrderId) ? placed with { Order = Working(placed.Order) } : placed;
    }

    private async Task<OrderInfo?> FoundAsync(Task<OrderInfo?> lookUp)
    {
        var found = await lookUp.ConfigureAwait(false);
        if (found is null || !_held.ContainsKey(found.ClientOrderId))
        {
            return found;
        }

        _reads.AddOrUpdate(found.ClientOrderId, 1, static (_, n) => n + 1);
        return Working(found);
    }

    private static OrderInfo Working(OrderInfo order) =>
        order with { Status = OrderStatus.New, ExecutedQty = 0m, AvgPrice = 0m, CumQuote = 0m };
}
