using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TradeEngine.ServiceDefaults.Grpc;

public static class GrpcServerExtensions
{
    /// <summary>Largest request or response a service accepts: ample for our messages, small enough to refuse abuse.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    public static TBuilder AddGrpcServerDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var isDevelopment = builder.Environment.IsDevelopment();
        // Fail closed: a service without the deployment's service key does not start (the check names the setting,
        // never the key), and every call to it must carry the key (ServiceKey); the interceptor runs first.
        builder.Services.AddSingleton<IValidateOptions<ServiceKeyCheck>, ServiceKeyValidation>();
        builder.Services.AddOptions<ServiceKeyCheck>().ValidateOnStart();
        builder.Services.AddSingleton<ServiceKeyInterceptor>();
        builder.Services.AddSingleton<VenuePriorityInterceptor>();
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxMessageBytes;
            o.MaxSendMessageSize = MaxMessageBytes;
            o.EnableDetailedErrors = isDevelopment;
            o.Interceptors.Add<ServiceKeyInterceptor>();
            o.Interceptors.Add<VenuePriorityInterceptor>();
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

/// <summary>Carries no settings: its validation is the start-up check of the service key (<see cref="ServiceKey.Problem"/>).</summary>
public sealed class ServiceKeyCheck;

internal sealed class ServiceKeyValidation(IConfiguration configuration) : IValidateOptions<ServiceKeyCheck>
{
    public ValidateOptionsResult Validate(string? name, ServiceKeyCheck options) =>
        ServiceKey.Problem(configuration) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
