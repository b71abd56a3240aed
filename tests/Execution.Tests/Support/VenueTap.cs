using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// Execution's venue client with a hook on the answers to its order placements: for answers Binance gives that the
/// simulator does not make on its own (an order still working when the placement answers). Every call still goes to the
/// simulator; only what the placement's answer says is changed.
/// </summary>
public static class VenueTap
{
    /// <summary>Replaces the service collection's <see cref="IBinanceClient"/> with one whose placements' answers pass through <paramref name="placed"/>.</summary>
    public static void Install(IServiceCollection services, Func<OrderPlacement, OrderPlacement> placed) =>
        VenueProxy.Install(services, real => VenueProxy.Wrap(real, (method, _, call) =>
            method.Name == nameof(IBinanceClient.PlaceOrderAsync) ? MapAsync((Task<OrderPlacement>)call()!, placed) : call()));

    private static async Task<OrderPlacement> MapAsync(Task<OrderPlacement> placement, Func<OrderPlacement, OrderPlacement> placed) =>
        placed(await placement.ConfigureAwait(false));
}
