using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// The plan's emergency close-all: cancel every open order, close every position, trigger the kill switch and log the
/// risk event. One symbol failing does not stop the others; its error is in the answer. Every venue order id derives
/// from the idempotency key and the symbol, so a repeat (a redelivered alert, a retried call) cannot close twice.
/// </summary>
public sealed class CloseAllHandler(
    IBinanceClient venue,
    RiskService.RiskServiceClient risk,
    RequestDeduplicator deduplicator,
    ClosePositionHandler closer,
    ProtectiveOrders protective,
    LedgerBook ledger,
    IHostApplicationLifetime lifetime,
    ILogger<CloseAllHandler> logger)
{
    public const string Actor = "execution";

    public async Task<CloseAllPositionsResponse> CloseAllAsync(CloseAllPositionsRequest request, CancellationToken cancellationToken)
    {
        var key = Wire.Required(request.IdempotencyKey, "idempotency_key", 128);
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "Emergency close-all" : Wire.Required(request.Reason, "reason", 1000);
        var actor = string.IsNullOrWhiteSpace(request.Actor) ? Actor : Wire.Required(request.Actor, "actor", 128);
        var (response, replayed) = await deduplicator.RunAsync(
            "close-all", key, request,
            () => Detached.Run(() => FlattenAsync(key, reason, actor, KillSwitchTrigger.EmergencyCloseAll))).ConfigureAwait(false);
        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    /// <summary>
    /// Closes everything. With a <paramref name="trigger"/> the kill switch is pulled through Risk afterwards; null
    /// when it is already on (the response to a KillSwitchTriggered event).
    /// </summary>
    public async Task<CloseAllPositionsResponse> FlattenAsync(string key, string reason, string actor, KillSwitchTrigger? trigger)
    {
        var ct = lifetime.ApplicationStopping;
        Log.CloseAllStarted(logger, key, reason);
        var positionsTask = venue.GetPositionsAsync(null, ct);
        var ordersTask = venue.GetOpenOrdersAsync(null, ct);
        var conditionalTask = venue.GetOpenConditionalOrdersAsync(null, ct);
        var open = (await positionsTask.ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).Select(p => p.Symbol).ToHashSet(StringComparer.Ordinal);
        var withOrders = (await ordersTask.ConfigureAwait(false)).Select(o => o.Symbol)
            .Concat((await conditionalTask.ConfigureAwait(false)).Select(o => o.Symbol));
        var symbols = open.Concat(withOrders).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var response = new CloseAllPositionsResponse();
        foreach (var symbol in symbols)
        {
            var result = new SymbolCloseResult { Symbol = symbol };
            try
            {
                await protective.CancelAllAsync(symbol, ct).ConfigureAwait(false);
                if (open.Contains(symbol))
                {
                    var closed = await closer.CloseSymbolAsync(symbol, ExecutionWire.Derived(key, symbol), reason).ConfigureAwait(false);
                    result.RealizedPnl = closed.RealizedPnl;
                }

                result.Closed = true;
            }
            catch (Exception ex) when (ex is RpcException or Binance.Errors.BinanceException or Domain.DomainException)
            {
                Log.CloseAllSymbolFailed(logger, ex, symbol);
                result.Error = ex.Message;
            }

            response.Results.Add(result);
        }

        response.KillSwitchActive = await TriggerKillSwitchAsync(key, reason, actor, trigger, ct).ConfigureAwait(false);
        var failed = response.Results.Count(r => !r.Closed);
        // Keyed by the outcome too: a repeat that ends the same way replays; one that gets further is logged as well.
        await ledger.LogRiskEventAsync($"close-all:{key}:{response.Results.Count - failed}/{failed}", "emergency_close_all", LedgerV1.RiskEventSeverity.Critical,
            $"{reason}: {response.Results.Count - failed} symbol(s) flattened, {failed} failed", null, ct, metric: response.Results.Count)
            .ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// For an event consumer: a symbol left open fails the delivery, so the broker redelivers it and the next attempt
    /// closes what is left (its orders derive from the same key, so what was closed is found, not closed again).
    /// </summary>
    public static void ThrowIfIncomplete(CloseAllPositionsResponse response, string key)
    {
        ArgumentNullException.ThrowIfNull(response);
        var failed = response.Results.Where(r => !r.Closed).Select(r => r.Symbol + " (" + r.Error + ")").ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"Close-all {key} left {failed.Count} symbol(s) not flattened: {string.Join(", ", failed)}");
        }
    }

    private async Task<bool> TriggerKillSwitchAsync(string key, string reason, string actor, KillSwitchTrigger? trigger, CancellationToken ct)
    {
        try
        {
            if (trigger is null)
            {
                return (await risk.GetKillSwitchAsync(new GetKillSwitchRequest(), cancellationToken: ct).ConfigureAwait(false)).Active;
            }

            var status = await risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
            {
                IdempotencyKey = "close-all:" + key,
                Trigger = trigger.Value,
                Reason = reason,
                Actor = actor,
            }, cancellationToken: ct).ConfigureAwait(false);
            return status.Active;
        }
        catch (RpcException ex)
        {
            Log.KillSwitchFailed(logger, ex);
            return false;
        }
    }
}
