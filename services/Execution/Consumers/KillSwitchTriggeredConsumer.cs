using System.Globalization;
using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Positions;
using TradeEngine.Messaging.Inbox;

namespace TradeEngine.Execution.Consumers;

/// <summary>
/// The kill switch went on (a daily-loss or drawdown breach, a liquidate-all state, an operator): flatten every
/// position. The switch is already on, so it is not pulled again. A reset (Active false) needs no action. A symbol that
/// could not be closed fails the delivery, and the redelivery closes what is left. A last delivery that still fails
/// logs a critical <c>kill_switch_flatten_failed</c> risk event before the message goes to the error queue: positions
/// left open under a kill switch are never passed over in silence.
/// </summary>
public sealed class KillSwitchTriggeredConsumer(
    IInbox inbox,
    CloseAllHandler closeAll,
    Ledger.LedgerBook ledger,
    ILogger<KillSwitchTriggeredConsumer> logger) : InboxConsumer<KillSwitchTriggered>(inbox, logger)
{
    protected override async Task ConsumeOnce(ConsumeContext<KillSwitchTriggered> context)
    {
        // Flattening takes risk off: its venue requests are held back only by the venue's own limits.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        var e = context.Message;
        if (!e.Active)
        {
            return;
        }

        Log.KillSwitchOn(logger, e.EventId, e.Trigger, e.Reason);
        var key = "ks-" + e.EventId.ToString("N", CultureInfo.InvariantCulture);
        try
        {
            var result = await closeAll.FlattenAsync(key, "Kill switch: " + e.Reason, CloseAllHandler.Actor, trigger: null).ConfigureAwait(false);
            CloseAllHandler.ThrowIfIncomplete(result, key);
        }
        catch (Exception ex) when (IsLastDelivery(context, ex))
        {
            await ledger.LogRiskEventAsync("ks-failed:" + key, "kill_switch_flatten_failed", TradeEngine.Ledger.V1.RiskEventSeverity.Critical,
                $"Kill switch {e.EventId}: its last delivery failed ({ex.Message}); positions may still be open", null, context.CancellationToken)
                .ConfigureAwait(false);
            throw;
        }
    }
}
