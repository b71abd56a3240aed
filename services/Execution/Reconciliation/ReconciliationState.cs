using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// Fail closed: until the first reconciliation has compared the venue with the Ledger, Execution opens nothing (the
/// Ledger may not know about positions from before a crash). Readiness reports the same. A pass that found the account in
/// hedge position mode (<see cref="HedgeModeException"/>) closes opening again, whatever passed before, until a pass
/// succeeds.
/// </summary>
public sealed class ReconciliationState : IHealthCheck
{
    private volatile bool _ready;
    private volatile string? _blocked;

    public bool IsReady => _ready;

    /// <summary>Why opening is refused although a pass succeeded before (the account found in hedge mode since), or null.</summary>
    public string? Blocked => _blocked;

    public DateTimeOffset? LastSuccess { get; private set; }

    public int LastMismatches { get; private set; }

    public void MarkSucceeded(DateTimeOffset at, int mismatches)
    {
        LastSuccess = at;
        LastMismatches = mismatches;
        _blocked = null;
        _ready = true;
    }

    /// <summary>Opening refused with <paramref name="reason"/> until the next pass succeeds.</summary>
    public void MarkBlocked(string reason) => _blocked = reason;

    /// <summary>UNAVAILABLE until the first reconciliation succeeded.</summary>
    public void EnsureReady()
    {
        if (_blocked is { } reason)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "reconciliation: " + reason + "; opening is refused until a reconciliation pass succeeds"));
        }

        if (!_ready)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                "reconciliation: the venue and the Ledger have not been reconciled since start; opening is refused until they are"));
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_blocked is { } reason
            ? HealthCheckResult.Unhealthy("Reconciliation: " + reason)
            : _ready
                ? HealthCheckResult.Healthy($"Reconciled at {LastSuccess:O}")
                : HealthCheckResult.Unhealthy("The first reconciliation of the venue and the Ledger has not succeeded yet"));
}
