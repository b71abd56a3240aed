using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Risk.Options;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.KillSwitch;

/// <summary>
/// Who may reset the kill switch through Risk: a caller presenting <c>Risk:KillSwitch:OperatorKey</c> in the
/// <see cref="HeaderName"/> request metadata. The check itself (SHA-256, constant-time compare, the refusals) is
/// <see cref="OperatorKeyGuard"/>, shared with the Ledger, which checks the same header again on the reset Risk forwards
/// to it: the Ledger's SetKillSwitch is no way around this check.
/// </summary>
public sealed class OperatorKeyCheck
{
    public const string HeaderName = OperatorKeyGuard.HeaderName;

    private readonly OperatorKeyGuard _guard;

    public OperatorKeyCheck(IOptions<RiskOptions> options, ILogger<OperatorKeyCheck> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Start-up validation refused a configured key that is blank or short; null is "not configured".
        _guard = new OperatorKeyGuard(options.Value.KillSwitch.OperatorKey, "Risk:KillSwitch:OperatorKey", "Risk", logger);
    }

    /// <summary>
    /// Returns the presented key (the reset passes it on to the Ledger) unless the call does not carry the configured key:
    /// FAILED_PRECONDITION when none is configured, UNAUTHENTICATED when the header is missing or empty, PERMISSION_DENIED
    /// (logged with the operator and the peer) when it does not match. Called before anything is written.
    /// </summary>
    public string Demand(ServerCallContext context, string @operator) => _guard.Demand(context, @operator);
}
