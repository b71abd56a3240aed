using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TradeEngine.ServiceDefaults;

/// <summary>
/// The defaults every service shares, as Aspire's template and eShop do:
/// OpenTelemetry, health checks and service discovery.
/// </summary>
/// <remarks>
/// Unlike the template, no resilience handler is added to every HttpClient: the standard handler retries
/// POSTs on 5xx and timeouts, which for an order endpoint means a duplicate order, and its total timeout
/// would cut the gRPC server streams. Clients opt in per call site (see <see cref="GrpcClientExtensions"/>;
/// the venue client has its own order-aware policy).
/// </remarks>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        return builder;
    }
}
