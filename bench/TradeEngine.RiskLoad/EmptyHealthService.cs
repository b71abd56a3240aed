using Grpc.Core;
using Grpc.Health.V1;

namespace TradeEngine.RiskLoad;

/// <summary>The baseline: a unary call that does nothing (grpc.health.v1 Check answering a constant).</summary>
public sealed class EmptyHealthService : Health.HealthBase
{
    private static readonly HealthCheckResponse Serving = new() { Status = HealthCheckResponse.Types.ServingStatus.Serving };

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) => Task.FromResult(Serving);
}
