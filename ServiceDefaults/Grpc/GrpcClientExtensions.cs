using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.ServiceDefaults.Grpc;

public static class GrpcClientExtensions
{
    /// <summary>Deadline of a call whose caller set none (and had none to propagate).</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Registers a typed gRPC client for another of our services. The address is <c>http://{serviceName}</c>,
    /// resolved by service discovery from <c>services__{serviceName}__http__0</c>. The caller's deadline and
    /// cancellation are propagated; a call without one gets <see cref="DefaultDeadline"/>. Every mutating RPC
    /// of ours carries an idempotency key, so retrying on UNAVAILABLE (and only on it) is safe. Every call carries the
    /// deployment's service key (<see cref="ServiceKey"/>), and the venue priority when it is not normal
    /// (<see cref="VenuePriorityHandler"/>).
    /// </summary>
    public static IHttpClientBuilder AddServiceGrpcClient<TClient>(this IServiceCollection services, string serviceName)
        where TClient : ClientBase
    {
        return services
            .AddGrpcClient<TClient>(o => o.Address = new Uri($"http://{serviceName}"))
            .ConfigureChannel(o =>
            {
                o.MaxReceiveMessageSize = GrpcServerExtensions.MaxMessageBytes;
                o.MaxSendMessageSize = GrpcServerExtensions.MaxMessageBytes;
                o.ServiceConfig = new ServiceConfig
                {
                    MethodConfigs =
                    {
                        new MethodConfig
                        {
                            Names = { MethodName.Default },
                            RetryPolicy = new RetryPolicy
                            {
                                MaxAttempts = 3,
                                InitialBackoff = TimeSpan.FromMilliseconds(100),
                                MaxBackoff = TimeSpan.FromSeconds(1),
                                BackoffMultiplier = 2,
                                RetryableStatusCodes = { StatusCode.Unavailable },
                            },
                        },
                    },
                };
            })
            .AddHttpMessageHandler(sp => new ServiceKeyHandler(sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()))
            .AddHttpMessageHandler(() => new VenuePriorityHandler())
            .EnableCallContextPropagation(o => o.SuppressContextNotFoundErrors = true)
            .AddInterceptor(() => new DefaultDeadlineInterceptor(DefaultDeadline));
    }
}
