using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TradeEngine.Binance;

namespace TradeEngine.Testing.Venue;

/// <summary>
/// A service's venue client with a test's hand on some of its calls: for answers Binance gives that the simulator does
/// not make on its own (an order still working when its placement answers, one symbol's history unreadable). Every call
/// goes through <c>around</c>, which gets the method, its arguments and the call to the real client (over the
/// simulator), and answers in its place or passes it on. A <see cref="DispatchProxy"/>, so it follows
/// <see cref="IBinanceClient"/> as it grows.
/// </summary>
public class VenueProxy : DispatchProxy
{
    private IBinanceClient _inner = null!;
    private Func<MethodInfo, object?[]?, Func<object?>, object?> _around = null!;

    public static IBinanceClient Wrap(IBinanceClient inner, Func<MethodInfo, object?[]?, Func<object?>, object?> around)
    {
        var client = Create<IBinanceClient, VenueProxy>();
        var proxy = (VenueProxy)(object)client;
        proxy._inner = inner;
        proxy._around = around;
        return client;
    }

    /// <summary>
    /// Replaces the service collection's <see cref="IBinanceClient"/> (AddBinanceClient registers it as a singleton made
    /// by a factory) with <paramref name="wrap"/> of the one that factory makes.
    /// </summary>
    public static void Install(IServiceCollection services, Func<IBinanceClient, IBinanceClient> wrap)
    {
        ArgumentNullException.ThrowIfNull(services);
        var real = services.Last(d => d.ServiceType == typeof(IBinanceClient) && !d.IsKeyedService && d.ImplementationFactory is not null);
        services.Replace(ServiceDescriptor.Singleton(sp => wrap((IBinanceClient)real.ImplementationFactory!(sp))));
    }

    /// <summary>
    /// An <c>around</c> that lists <paramref name="symbol"/> in exchangeInfo as a contract margined in
    /// <paramref name="marginAsset"/> of <paramref name="contractType"/>, and passes every other call on. Binance lists
    /// USDC-margined perpetuals (BTCUSDC) and delivery contracts beside its USDT perpetuals; the simulator lists only
    /// USDT perpetuals.
    /// </summary>
    public static Func<MethodInfo, object?[]?, Func<object?>, object?> ListingAs(string symbol, string marginAsset, string contractType = "PERPETUAL") =>
        Relisting(symbol, s => s with { QuoteAsset = marginAsset, MarginAsset = marginAsset, ContractType = contractType });

    /// <summary>
    /// An <c>around</c> that lists <paramref name="symbol"/> in exchangeInfo with MARKET_LOT_SIZE from
    /// <paramref name="marketMinQty"/> to <paramref name="marketMaxQty"/> (the simulator's markets take any multiple of
    /// their step up to far past the hard limits), and passes every other call on.
    /// </summary>
    public static Func<MethodInfo, object?[]?, Func<object?>, object?> MarketLotSize(string symbol, decimal marketMinQty, decimal marketMaxQty) =>
        Relisting(symbol, s => s with
        {
            Filters = new Domain.Instruments.SymbolFilters(s.Filters.TickSize, s.Filters.StepSize, s.Filters.MinQty, s.Filters.MaxQty,
                marketMinQty, marketMaxQty, s.Filters.MinNotional, s.Filters.PricePrecision, s.Filters.QuantityPrecision),
        });

    /// <summary>
    /// An <c>around</c> that lists <paramref name="symbol"/> in exchangeInfo with LOT_SIZE's and MARKET_LOT_SIZE's step and
    /// minimum <paramref name="step"/> (a coarser lot, as Binance sets from time to time), and passes every other call on.
    /// </summary>
    public static Func<MethodInfo, object?[]?, Func<object?>, object?> LotStep(string symbol, decimal step) =>
        Relisting(symbol, s => s with
        {
            Filters = new Domain.Instruments.SymbolFilters(s.Filters.TickSize, step, step, s.Filters.MaxQty,
                step, s.Filters.MarketMaxQty, s.Filters.MinNotional, s.Filters.PricePrecision, s.Filters.QuantityPrecision),
        });

    private static Func<MethodInfo, object?[]?, Func<object?>, object?> Relisting(string symbol, Func<Binance.Models.SymbolInfo, Binance.Models.SymbolInfo> change)
    {
        return (method, _, call) => method.Name == nameof(IBinanceClient.GetExchangeInfoAsync) ? RelistAsync((Task<Binance.Models.ExchangeInfo>)call()!) : call();

        async Task<Binance.Models.ExchangeInfo> RelistAsync(Task<Binance.Models.ExchangeInfo> read)
        {
            var info = await read.ConfigureAwait(false);
            return info with { Symbols = [.. info.Symbols.Select(s => s.Symbol == symbol ? change(s) : s)] };
        }
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return _around(targetMethod, args, () =>
        {
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        });
    }
}
