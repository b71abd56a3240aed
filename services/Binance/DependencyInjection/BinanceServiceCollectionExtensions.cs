using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.Instruments;

namespace TradeEngine.Binance.DependencyInjection;

public static class BinanceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IBinanceClient"/> over a typed HttpClient with options from the <c>Binance</c> section.
    /// No generic resilience handler: the client's own policy never resends an order whose outcome is unknown.
    /// HttpClient logging is removed so no request URI (whose query holds a signature) is ever logged.
    /// Also registers the <see cref="VenueInstrumentCatalog"/> singleton (Domain instruments from the venue, cached).
    /// </summary>
    public static IHttpClientBuilder AddBinanceClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<BinanceOptions>()
            .Bind(configuration.GetSection(BinanceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        var builder = services.AddHttpClient<IBinanceClient, BinanceClient>((sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<BinanceOptions>>().Value;
                http.BaseAddress = options.ResolveBaseUri();
                // Per-attempt timeouts are the client's own; this is only a backstop.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RemoveAllLoggers()
            // The client lives for the process (below), so its pooled connections are recycled here instead of by the
            // factory's handler rotation: DNS changes of the venue are still picked up.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        // One client per process. Each instance keeps its own rate-limit governor, clock offset and exchangeInfo cache; a
        // transient instance that never read exchangeInfo kept Binance's default limits while taking the venue's reported
        // usage (which counts every instance), and held requests until the next minute far below the venue's real limits.
        var typed = services.Last(d => d.ServiceType == typeof(IBinanceClient) && !d.IsKeyedService && d.ImplementationFactory is not null);
        services.Replace(ServiceDescriptor.Singleton<IBinanceClient>(sp => (IBinanceClient)typed.ImplementationFactory!(sp)));
        services.TryAddSingleton(sp => (BinanceClient)sp.GetRequiredService<IBinanceClient>());
        services.TryAddSingleton(sp => new VenueInstrumentCatalog(
            sp.GetRequiredService<IBinanceClient>(),
            sp.GetRequiredService<IOptions<BinanceOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<VenueInstrumentCatalog>>()));
        services.TryAddSingleton<IInstrumentSource>(sp => sp.GetRequiredService<VenueInstrumentCatalog>());
        return builder;
    }
}
