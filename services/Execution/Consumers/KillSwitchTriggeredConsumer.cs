using System.Globalization;
using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Positions;
using TradeEngine.Messaging.Inbox;

namespace TradeEngine.Execution.Consumers;

/// <summary>
/// The kill switch went on (a daily-loss or drawdown breach, a liquidate-all state, an operator): flatten every
/// position. The switch is already on, so it is not pulled again. A reset (Active false) needs no action. A symbol that
/// could not be closed fails the delivery, and the redelivery closes what is left.
/// </summary>
public sealed class KillSwitchTriggeredConsumer(
    IInbox inbox,
    CloseAllHandler closeAll,
    ILogger<KillSwitchTriggeredConsumer> logger) : InboxConsumer<KillSwitchTriggered>(inbox, logger)
{
    protected override async Task ConsumeOnce(ConsumeContext<KillSwitchTriggered> context)
    {
        var e = context.Message;
        if (!e.Active)
        {
            return;
        }

        Log.KillSwitchOn(logger, e.EventId, e.Trigger, e.Reason);
        var key = "ks-" + e.EventId.ToString("N", CultureInfo.InvariantCulture);
        var result = await closeAll.FlattenAsync(key, "Kill switch: " + e.Reason, CloseAllHandler.Actor, trigger: null).ConfigureAwait(false);
        CloseAllHandler.ThrowIfIncomplete(result, key);
    }
}
