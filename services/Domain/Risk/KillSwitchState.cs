namespace TradeEngine.Domain.Risk;

/// <summary>
/// The kill switch as an immutable state. A daily-loss or drawdown breach latches it; it stays
/// active, with the first reason and time, until an operator resets it and says why. Each
/// change returns a new state, which the Ledger persists so it survives restarts.
/// </summary>
public sealed record KillSwitchState
{
    public static KillSwitchState Inactive { get; } = new();

    public bool Active { get; private init; }

    public string? Reason { get; private init; }

    public DateTimeOffset? TriggeredAt { get; private init; }

    public string? ResetBy { get; private init; }

    public string? ResetReason { get; private init; }

    public DateTimeOffset? ResetAt { get; private init; }

    /// <summary>Latches the switch. Already active: unchanged, so the first cause is kept.</summary>
    public KillSwitchState Trigger(string reason, DateTimeOffset at)
    {
        Guard.NotBlank(reason, nameof(reason));
        return Active ? this : new KillSwitchState { Active = true, Reason = reason, TriggeredAt = at };
    }

    /// <summary>Latches when the decision found a daily-loss or drawdown breach; otherwise unchanged.</summary>
    public KillSwitchState Apply(in RiskDecision decision, DateTimeOffset at)
    {
        if (!decision.LatchesKillSwitch)
        {
            return this;
        }

        var code = decision.Has(RiskReasonCode.DailyLossLimitBreached)
            ? RiskReasonCode.DailyLossLimitBreached
            : RiskReasonCode.DrawdownLimitBreached;
        decision.TryGetReason(code, out var reason);
        return Trigger(reason.ToString(), at);
    }

    /// <summary>An operator clears the switch. Both the operator and the reason are required.</summary>
    public KillSwitchState Reset(string @operator, string reason, DateTimeOffset? at = null)
    {
        Guard.NotBlank(@operator, "operator");
        Guard.NotBlank(reason, nameof(reason));
        return new KillSwitchState { ResetBy = @operator, ResetReason = reason, ResetAt = at };
    }
}
