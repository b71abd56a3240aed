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
            .RemoveAllLoggers();
        services.TryAddTransient(sp => (BinanceClient)sp.GetRequiredService<IBinanceClient>());
        // One catalog per process over a client of its own (the typed client is transient).
        services.TryAddSingleton(sp => new VenueInstrumentCatalog(
            sp.GetRequiredService<IBinanceClient>(),
            sp.GetRequiredService<IOptions<BinanceOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<VenueInstrumentCatalog>>()));
        services.TryAddSingleton<IInstrumentSource>(sp => sp.GetRequiredService<VenueInstrumentCatalog>());
        return builder;
    }
}
