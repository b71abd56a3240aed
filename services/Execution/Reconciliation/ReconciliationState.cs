using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Fail closed: until the first reconciliation has compared the venue with the Ledger, Execution opens nothing (the
/// Ledger may not know about positions from before a crash). Readiness reports the same.
/// </summary>
public sealed class ReconciliationState : IHealthCheck
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public DateTimeOffset? LastSuccess { get; private set; }

    public int LastMismatches { get; private set; }

    public void MarkSucceeded(DateTimeOffset at, int mismatches)
    {
        LastSuccess = at;
        LastMismatches = mismatches;
        _ready = true;
    }

    /// <summary>UNAVAILABLE until the first reconciliation succeeded.</summary>
    public void EnsureReady()
    {
        if (!_ready)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                "reconciliation: the venue and the Ledger have not been reconciled since start; opening is refused until they are"));
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready
            ? HealthCheckResult.Healthy($"Reconciled at {LastSuccess:O}")
            : HealthCheckResult.Unhealthy("The first reconciliation of the venue and the Ledger has not succeeded yet"));
}
