using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Risk.State;

namespace TradeEngine.Risk.Consumers;

/// <summary>
/// Applies a kill switch change published by the Ledger's outbox to the cached risk state, so every Risk instance
/// refuses new positions as soon as the event arrives, not at the next periodic refresh. Applying the same change
/// twice is harmless (the newer change always wins), so no inbox is needed; each instance has its own temporary
/// queue because every instance must hear every change.
/// </summary>
public sealed class KillSwitchTriggeredConsumer(RiskStateCache cache) : IConsumer<KillSwitchTriggered>
{
    public Task Consume(ConsumeContext<KillSwitchTriggered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var e = context.Message;
        cache.Apply(new KillSwitchView(e.Active, e.Trigger, e.Reason, e.Actor, e.OccurredAt));
        return Task.CompletedTask;
    }
}
