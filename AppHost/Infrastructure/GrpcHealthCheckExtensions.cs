using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TradeEngine.AppHost.Infrastructure;

public static class GrpcHealthCheckExtensions
{
    /// <summary>
    /// The resource is healthy when <c>grpc.health.v1.Health/Check</c> on its "http" endpoint answers SERVING.
    /// Our gRPC services speak HTTP/2 without TLS (h2c), which an HTTP/1.1 probe of /health cannot reach.
    /// </summary>
    public static IResourceBuilder<T> WithGrpcHealthCheck<T>(this IResourceBuilder<T> builder)
        where T : IResourceWithEndpoints
    {
        var endpoint = builder.GetEndpoint("http");
        var key = $"{builder.Resource.Name}-grpc-health";
        GrpcChannel? channel = null;
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new GrpcHealthCheck(() =>
            channel ??= GrpcChannel.ForAddress(endpoint.Url)), null, null));
        return builder.WithHealthCheck(key);
    }

    private sealed class GrpcHealthCheck(Func<GrpcChannel> channel) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var reply = await new Health.HealthClient(channel()).CheckAsync(
                    new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: cancellationToken).ConfigureAwait(false);
                return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"grpc.health.v1: {reply.Status}");
            }
            catch (Grpc.Core.RpcException ex)
            {
                return HealthCheckResult.Unhealthy($"grpc.health.v1: {ex.StatusCode}");
            }
        }
    }
}
