using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// Execution's venue client with a hook on the answers to its order placements: for answers Binance gives that the
/// simulator does not make on its own (an order still working when the placement answers). Every call still goes to the
/// simulator; only what the placement's answer says is changed.
/// </summary>
public class VenueTap : DispatchProxy
{
    private IBinanceClient _inner = null!;
    private Func<OrderPlacement, OrderPlacement> _placed = p => p;

    /// <summary>Replaces the service collection's <see cref="IBinanceClient"/> with one whose placements' answers pass through <paramref name="placed"/>.</summary>
    public static void Install(IServiceCollection services, Func<OrderPlacement, OrderPlacement> placed)
    {
        var original = services.Last(d => d.ServiceType == typeof(IBinanceClient) && !d.IsKeyedService);
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var client = Create<IBinanceClient, VenueTap>();
            var tap = (VenueTap)(object)client;
            tap._inner = (IBinanceClient)original.ImplementationFactory!(sp);
            tap._placed = placed;
            return client;
        }));
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        return targetMethod.Name == nameof(IBinanceClient.PlaceOrderAsync) ? MapAsync((Task<OrderPlacement>)result!) : result;
    }

    private async Task<OrderPlacement> MapAsync(Task<OrderPlacement> placement) => _placed(await placement.ConfigureAwait(false));
}
