using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TradeEngine.ServiceDefaults.Grpc;

public static class GrpcServerExtensions
{
    /// <summary>Largest request or response a service accepts: ample for our messages, small enough to refuse abuse.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    public static TBuilder AddGrpcServerDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var isDevelopment = builder.Environment.IsDevelopment();
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxMessageBytes;
            o.MaxSendMessageSize = MaxMessageBytes;
            o.EnableDetailedErrors = isDevelopment;
            o.Interceptors.Add<ExceptionInterceptor>();
        });
        if (isDevelopment)
        {
            builder.Services.AddGrpcReflection();
        }

        return builder;
    }

    public static WebApplication MapGrpcDefaults(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.MapGrpcReflectionService();
        }

        return app;
    }
}
