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
/// The plan's emergency close-all: close every position, cancel every open order (a symbol's once its position is flat),
/// trigger the kill switch and log the risk event. One symbol failing does not stop the others; its error is in the answer. Every venue order id derives
/// from the idempotency key and the symbol, so a repeat (a redelivered alert, a retried call) cannot close twice.
/// </summary>
public sealed partial class CloseAllHandler(
    IBinanceClient venue,
    RiskService.RiskServiceClient risk,
    RequestDeduplicator deduplicator,
    ClosePositionHandler closer,
    ProtectiveOrders protective,
    SymbolLocks locks,
    LedgerBook ledger,
    IHostApplicationLifetime lifetime,
    ILogger<CloseAllHandler> logger)
{
    public const string Actor = "execution";

    public async Task<CloseAllPositionsResponse> CloseAllAsync(CloseAllPositionsRequest request, CancellationToken cancellationToken)
    {
        // As Risk and the Ledger read keys (both get this one, with a prefix): refused here, before anything is closed.
        var key = Wire.Key(request.IdempotencyKey, "idempotency_key", 128);
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "Emergency close-all" : Wire.Required(request.Reason, "reason", 1000);
        var actor = string.IsNullOrWhiteSpace(request.Actor) ? Actor : Wire.Required(request.Actor, "actor", 128);
        var (response, replayed) = await deduplicator.RunAsync(
            "close-all", key, request,
            () => Detached.Run(async () => RequireKillSwitch(await FlattenAsync(key, reason, actor, KillSwitchTrigger.EmergencyCloseAll).ConfigureAwait(false))))
            .ConfigureAwait(false);
        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    /// <summary>
    /// Closes everything. With a <paramref name="trigger"/> the kill switch is pulled through Risk first, so nothing new
    /// is opened while the positions are being closed (and once more at the end if that failed); null when it is already
    /// on (the response to a KillSwitchTriggered event).
    /// </summary>
    /// <remarks>
    /// Each symbol's position is closed, then its orders are cancelled once it is flat (a close that did not fill leaves
    /// them guarding it; orders a cancel left are named in the symbol's error). A symbol whose position went flat meanwhile
    /// (a stop-loss triggered) counts as closed. Once the switch is on, positions that opens in flight made since the listing are closed
    /// too, and any closed above that such an open reopened (<see cref="OpenAfterTheSwitchAsync"/>).
    /// </remarks>
    public async Task<CloseAllPositionsResponse> FlattenAsync(string key, string reason, string actor, KillSwitchTrigger? trigger)
    {
        var ct = lifetime.ApplicationStopping;
        Log.CloseAllStarted(logger, key, reason);
        // Asked first, so nothing new opens while the positions close; not waited for: a slow Risk must not hold the closes.
        var switchTask = trigger is not null ? TriggerKillSwitchAsync(key, reason, actor, trigger, ct) : null;
        var positionsTask = venue.GetPositionsAsync(null, ct);
        var ordersTask = venue.GetOpenOrdersAsync(null, ct);
        var conditionalTask = venue.GetOpenConditionalOrdersAsync(null, ct);
        var open = (await positionsTask.ConfigureAwait(false)).Where(p => p.PositionAmt != 0m).Select(p => p.Symbol).ToHashSet(StringComparer.Ordinal);
        var response = new CloseAllPositionsResponse();
        var withOrders = (await ListedAsync(ordersTask, o => o.Symbol, "open orders", response).ConfigureAwait(false))
            .Concat(await ListedAsync(conditionalTask, o => o.Symbol, "open conditional orders", response).ConfigureAwait(false));
        var symbols = open.Concat(withOrders).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        foreach (var symbol in symbols)
        {
            response.Results.Add(await FlattenSymbolAsync(symbol, open.Contains(symbol), ExecutionWire.Derived(key, symbol), reason, ct).ConfigureAwait(false));
        }

        var switchedOn = switchTask is not null && await switchTask.ConfigureAwait(false) == true;
        var switchState = switchedOn ? true : await TriggerKillSwitchAsync(key, reason, actor, trigger, ct).ConfigureAwait(false);
        response.KillSwitchActive = switchState == true;
        // Swept unless Risk says the switch is off: when Risk does not answer, a switch that was to be pulled (or that the
        // kill switch's event says is on) is taken as on. Before, a Risk that did not answer skipped the sweep, and the
        // event's delivery passed with a position an open in flight made still standing.
        if (switchState != false)
        {
            // Every symbol with a position now, those closed above too: an open that passed Risk before the switch went on
            // may have reopened one once its close let go of the symbol's lock. Before, those were left out, and answered
            // as flattened while open. One closed above is closed again under an id of its own (SweepId).
            foreach (var symbol in await OpenAfterTheSwitchAsync(response, ct).ConfigureAwait(false))
            {
                // One result per symbol: a symbol listed before is answered by its close now.
                var closeId = open.Contains(symbol) ? SweepId(key, symbol) : ExecutionWire.Derived(key, symbol);
                var result = await FlattenSymbolAsync(symbol, open: true, closeId, reason, ct).ConfigureAwait(false);
                var earlier = response.Results.Select((r, i) => r.Symbol == symbol ? i : -1).FirstOrDefault(i => i >= 0, -1);
                if (earlier >= 0)
                {
                    response.Results[earlier] = result;
                }
                else
                {
                    response.Results.Add(result);
                }
            }
        }

        var failed = response.Results.Count(r => !Flattened(r));
        var switchText = switchState switch { true => "on", false => "NOT on", null => "unknown (Risk did not answer)" };
        var listings = response.ListingErrors.Count == 0 ? "" : $"; {response.ListingErrors.Count} venue listing(s) failed ({string.Join("; ", response.ListingErrors)})";
        // Keyed by the outcome too: a repeat that ends the same way replays; one that gets further is logged as well.
        // Logged whatever the service stopping cut short: what was closed is on record (the host's stop waits for it).
        await ledger.LogRiskEventAsync($"close-all:{key}:{response.Results.Count - failed}/{failed}/{response.ListingErrors.Count}", "emergency_close_all", LedgerV1.RiskEventSeverity.Critical,
            $"{reason}: {response.Results.Count - failed} symbol(s) flattened, {failed} failed; kill switch {switchText}{listings}",
            null, CancellationToken.None, metric: response.Results.Count)
            .ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// For an event consumer: a symbol left open or with orders left, or a kill switch that was to be pulled and is not
    /// on, fails the delivery, so the broker redelivers it and the next attempt finishes the job (its orders derive from
    /// the same key, so what was closed is found, not closed again).
    /// </summary>
    public static void ThrowIfIncomplete(CloseAllPositionsResponse response, string key, bool killSwitchRequired = false)
    {
        ArgumentNullException.ThrowIfNull(response);
        var failed = response.Results.Where(r => !Flattened(r)).Select(r => r.Symbol + " (" + r.Error + ")").ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"Close-all {key} left {failed.Count} symbol(s) not flattened: {string.Join(", ", failed)}");
        }

        if (response.ListingErrors.Count > 0)
        {
            // A symbol holding only orders (an entry order that would open a position under the switch) may have been missed.
            throw new InvalidOperationException($"Close-all {key} could not list the venue: {string.Join("; ", response.ListingErrors)}");
        }

        if (killSwitchRequired && !response.KillSwitchActive)
        {
            throw new InvalidOperationException($"Close-all {key} flattened every symbol but could not turn the kill switch on");
        }
    }

    /// <summary>
    /// The gRPC answer: a kill switch that could not be turned on is UNAVAILABLE (not a final answer: the retry with the
    /// same key finds what was closed and pulls the switch again), with what was done in the message.
    /// </summary>
    private static CloseAllPositionsResponse RequireKillSwitch(CloseAllPositionsResponse response)
    {
        if (response.KillSwitchActive)
        {
            return response;
        }

        var flattened = response.Results.Count(Flattened);
        throw new RpcException(new Status(StatusCode.Unavailable,
            $"kill_switch: Risk did not turn the kill switch on; {flattened} of {response.Results.Count} symbol(s) flattened. Retry with the same idempotency_key"));
    }

    /// <summary>A symbol is flattened when its position is closed and none of its orders is left.</summary>
    private static bool Flattened(SymbolCloseResult result) => result.Closed && result.Error.Length == 0;

    /// <summary>
    /// The symbols of an order listing; a listing that failed counts as none (the positions are closed regardless) and is
    /// named in the answer's listing_errors, so the close-all is not taken for complete. Before, it was passed over: a
    /// symbol holding only an entry order was never visited, and the run answered every symbol flattened.
    /// </summary>
    private async Task<IEnumerable<string>> ListedAsync<T>(Task<IReadOnlyList<T>> listing, Func<T, string> symbol, string what, CloseAllPositionsResponse response)
    {
        try
        {
            return (await listing.ConfigureAwait(false)).Select(symbol);
        }
        catch (Binance.Errors.BinanceException ex)
        {
            Log.CloseAllSymbolFailed(logger, ex, "(order listing)");
            response.ListingErrors.Add($"the venue's {what} could not be listed: {ex.Message}");
            return [];
        }
    }
}
