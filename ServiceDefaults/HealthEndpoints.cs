using Grpc.AspNetCore.HealthChecks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace TradeEngine.ServiceDefaults;

/// <summary>
/// <c>/health</c> (ready: every check passes), <c>/alive</c> (the process answers: checks tagged "live"),
/// and the standard gRPC health service (<c>grpc.health.v1</c>) reflecting readiness.
/// </summary>
public static class HealthEndpoints
{
    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";
    public const string LiveTag = "live";

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        // The gRPC health service needs gRPC itself, also in a service that otherwise speaks only REST.
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks(o =>
        {
            // The overall service ("") and each hosted service report readiness: every registered check.
            o.Services.Map("", _ => true);
        });
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = TimeSpan.FromSeconds(5);
        });
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Readiness and liveness are safe to expose on loopback/dev; in production they sit behind the ingress.
        app.MapHealthChecks(HealthPath);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        app.MapGrpcHealthChecksService();
        return app;
    }
}
