using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace TradeEngine.ServiceDefaults;

public static class OpenTelemetryExtensions
{
    /// <summary>Activity sources and meters of our own code start with this prefix.</summary>
    public const string TradeEnginePrefix = "TradeEngine.";

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TradeEnginePrefix + "*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TradeEnginePrefix + "*")
                .AddAspNetCoreInstrumentation(o =>
                {
                    // Health probes every few seconds would drown the traces that matter.
                    o.Filter = ctx => !ctx.Request.Path.StartsWithSegments(HealthEndpoints.HealthPath)
                                      && !ctx.Request.Path.StartsWithSegments(HealthEndpoints.AlivePath);
                    o.EnrichWithHttpRequest = TraceRedaction.RedactServerQuery;
                })
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation(o =>
                {
                    // gRPC client calls already produce a span of their own; HttpClient would add a second.
                    o.FilterHttpRequestMessage = req => req.Content is null
                        || req.Content.Headers.ContentType?.MediaType != "application/grpc";
                    o.EnrichWithHttpRequestMessage = TraceRedaction.RedactClientUrl;
                }));

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        // OTLP switches on only when an endpoint is configured (Aspire sets it for every resource).
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }
}
