using Grpc.Core;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Risk.V1;

namespace TradeEngine.Execution.Positions;

// CloseAllHandler's kill switch: pulled (or read) through Risk, and the positions opened before it went on, closed under ids of their own.
public sealed partial class CloseAllHandler
{
    /// <summary>
    /// The symbols with a position at the venue once the switch is on: an open that passed Risk just before the switch
    /// went on may still be placing its order (it holds its symbol's lock from before its Risk check until it is done),
    /// on a symbol the first listing had no position on, or on one closed since (it waited for the close's lock). With
    /// the switch on no new open passes Risk, so once the locks held now are released the venue is listed again, and
    /// whatever is open is closed. Before, close-all answered with such a position still open.
    /// </summary>
    private async Task<IReadOnlyList<string>> OpenAfterTheSwitchAsync(CloseAllPositionsResponse response, CancellationToken ct)
    {
        try
        {
            foreach (var symbol in locks.Held())
            {
                using var held = await locks.AcquireAsync(symbol, ct).ConfigureAwait(false);
            }

            return (await venue.GetPositionsAsync(null, ct).ConfigureAwait(false))
                .Where(p => p.PositionAmt != 0m)
                .Select(p => p.Symbol).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }
        catch (Binance.Errors.BinanceException ex)
        {
            // The first pass stands, and the answer says the sweep could not look (an event's delivery is then redelivered).
            Log.CloseAllSymbolFailed(logger, ex, "(second listing)");
            response.ListingErrors.Add("the venue's positions could not be listed again once the switch was on: " + ex.Message);
            return [];
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The service is stopping: the next start's reconciliation and the consumers' redelivery come after.
            return [];
        }
    }

    /// <summary>
    /// The id under which the final sweep closes a symbol the first pass closed (or tried to) under the key's id: under
    /// that id the close would find the first pass's order and answer it as a close already made, leaving a position
    /// opened since standing. Derived from the key, so a repeat of the close-all finds it too.
    /// </summary>
    private static string SweepId(string key, string symbol) => ExecutionWire.Derived(ExecutionWire.Derived(key, symbol), "sweep");

    /// <summary>Pulls the kill switch through Risk (or, with no <paramref name="trigger"/>, reads it); null when Risk did not answer.</summary>
    private async Task<bool?> TriggerKillSwitchAsync(string key, string reason, string actor, KillSwitchTrigger? trigger, CancellationToken ct)
    {
        try
        {
            if (trigger is null)
            {
                return (await risk.GetKillSwitchAsync(new GetKillSwitchRequest(), cancellationToken: ct).ConfigureAwait(false)).Active;
            }

            var status = await risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
            {
                IdempotencyKey = ExecutionWire.CalleeKey("close-all:" + key),
                Trigger = trigger.Value,
                Reason = reason,
                Actor = actor,
            }, cancellationToken: ct).ConfigureAwait(false);
            return status.Active;
        }
        catch (RpcException ex)
        {
            Log.KillSwitchFailed(logger, ex);
            return null;
        }
    }
}
