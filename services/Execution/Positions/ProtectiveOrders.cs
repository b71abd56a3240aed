using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Signing;
using TradeEngine.Execution.Mapping;
using DomainSide = TradeEngine.Domain.Side;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// Stop-loss and take-profit as the venue's conditional orders (STOP_MARKET / TAKE_PROFIT_MARKET with closePosition,
/// triggered on the mark price). Their client ids derive from the opening order's id, so a resumed open finds the
/// orders it already placed instead of placing them twice.
/// </summary>
public sealed class ProtectiveOrders(IBinanceClient venue, ILogger<ProtectiveOrders> logger)
{
    public static string StopLossId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "sl");

    public static string TakeProfitId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "tp");

    public Task<ConditionalOrderInfo> PlaceStopLossAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        PlaceAsync(Closing(symbol, side, ConditionalOrderType.StopMarket, trigger), key, ct);

    public Task<ConditionalOrderInfo> PlaceTakeProfitAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        PlaceAsync(Closing(symbol, side, ConditionalOrderType.TakeProfitMarket, trigger), key, ct);

    /// <summary>A closePosition order of <paramref name="type"/> on the closing side of a <paramref name="side"/> position.</summary>
    private static NewConditionalOrder Closing(string symbol, DomainSide side, ConditionalOrderType type, decimal trigger) =>
        new(symbol, ExecutionWire.ClosingOrder(side), type, trigger);

    /// <summary>
    /// Waits before each new attempt of a closePosition order Binance refused with -4509 ("TIF GTE can only be used with
    /// open positions"): sent right after the opening fill, it can reach the venue before the position shows on its
    /// side (reported by several live clients). The refusal placed nothing, so sending it again is safe.
    /// </summary>
    private static readonly TimeSpan[] GteRetryDelays =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800)];

    private async Task<ConditionalOrderInfo> PlaceAsync(NewConditionalOrder order, string key, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await venue.PlaceConditionalOrderAsync(order, key, ct).ConfigureAwait(false);
            }
            catch (BinanceApiException ex) when (ex.Code == BinanceErrors.GteWithoutPosition && attempt < GteRetryDelays.Length)
            {
                await Task.Delay(GteRetryDelays[attempt], ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// On a resumed open: the conditional order its first attempt placed under <paramref name="key"/>, in whatever state
    /// it is now, or null when there is none (then it is placed). One that is no longer open (a later add replaced it, it
    /// triggered, someone cancelled it) is not placed again: the venue would take the id anew, and the old price would
    /// come back over a newer one.
    /// </summary>
    public Task<ConditionalOrderInfo?> FindPlacedAsync(string key, CancellationToken ct) =>
        venue.GetConditionalOrderAsync(ClientOrderIds.FromIdempotencyKey(key), ct);

    /// <summary>
    /// The open closePosition order of <paramref name="type"/> guarding a <paramref name="side"/> position on
    /// <paramref name="symbol"/>, or null when none stands. A listing that fails is UNAVAILABLE (not a venue refusal): the
    /// caller cannot tell, and must not take it for "none" (it would replace the order that stands) nor for a placement
    /// that failed (which closes the position at once).
    /// </summary>
    public async Task<ConditionalOrderInfo?> StandingAsync(string symbol, DomainSide side, ConditionalOrderType type, CancellationToken ct)
    {
        IReadOnlyList<ConditionalOrderInfo> open;
        try
        {
            open = await venue.GetOpenConditionalOrdersAsync(symbol, ct).ConfigureAwait(false);
        }
        catch (BinanceException ex)
        {
            throw new global::Grpc.Core.RpcException(new global::Grpc.Core.Status(global::Grpc.Core.StatusCode.Unavailable,
                $"venue: the open orders of {symbol} could not be read ({ex.Message}); retry"));
        }

        return Guarding(open, side, type).FirstOrDefault();
    }

    /// <summary>
    /// Places a stop-loss or take-profit (<paramref name="type"/>) on a position that may already hold a closePosition
    /// order of that type on its closing side (an add's older one). Binance keeps one such order per type and direction
    /// (-4130), so with <paramref name="replacing"/> (an add, a resumed open) the older one is cancelled first and then
    /// this one is placed; in between (milliseconds) the position has no order of that type, and from the cancel on
    /// the placement is not given up for a shutdown. A listing that fails does not stop the placement (there may be
    /// no older order); the venue's -4130 then says one stands. An older order that stands (its cancel refused, or
    /// -4130) still guards the position, and nothing new is placed: <see cref="ProtectionNotReplacedException"/>.
    /// A new position has none (Binance's closePosition orders expire with the position they close), so it places at
    /// once; should the venue still answer -4130, the way is cleared and it places again, once.
    /// </summary>
    /// <returns>The order placed and the older ones cancelled for it.</returns>
    public async Task<(ConditionalOrderInfo Placed, IReadOnlyList<ConditionalOrderInfo> Replaced)> PlaceReplacingAsync(
        string symbol, DomainSide side, ConditionalOrderType type, decimal trigger, string key, bool replacing, CancellationToken ct)
    {
        var order = Closing(symbol, side, type, trigger);
        var replaced = replacing ? await CancelGuardingAsync(symbol, side, type, key, ct).ConfigureAwait(false) : [];
        try
        {
            return (await PlaceAsync(order, key, replaced.Count > 0 ? CancellationToken.None : ct).ConfigureAwait(false), replaced);
        }
        catch (BinanceApiException ex) when (ex.Code == BinanceErrors.ClosePositionOrderExists && replacing)
        {
            // Refused outright (nothing placed): an older one stands, which the listing did not show or could not read.
            throw new ProtectionNotReplacedException(type, ex);
        }
        catch (BinanceApiException ex) when (ex.Code == BinanceErrors.ClosePositionOrderExists)
        {
            // A new position: one of its type stands, left by something else. Clear the way and place again, once.
            var more = await CancelGuardingAsync(symbol, side, type, key, ct).ConfigureAwait(false);
            return (await PlaceAsync(order, key, CancellationToken.None).ConfigureAwait(false), more);
        }
    }

    /// <summary>
    /// Cancels the open closePosition orders of <paramref name="type"/> guarding the position, other than
    /// <paramref name="key"/>'s. A listing that fails lists none (the placement finds out). A first cancel the venue
    /// refused (an error answer or a rate limit: not executed) leaves the older order standing:
    /// <see cref="ProtectionNotReplacedException"/>. A cancel whose outcome is unknown is not caught: the older order may
    /// be gone.
    /// </summary>
    private async Task<List<ConditionalOrderInfo>> CancelGuardingAsync(string symbol, DomainSide side, ConditionalOrderType type, string key, CancellationToken ct)
    {
        var own = ClientOrderIds.FromIdempotencyKey(key);
        IReadOnlyList<ConditionalOrderInfo> open;
        try
        {
            open = await venue.GetOpenConditionalOrdersAsync(symbol, ct).ConfigureAwait(false);
        }
        catch (BinanceException)
        {
            return [];
        }

        var older = Guarding(open, side, type).Where(o => !string.Equals(o.ClientAlgoId, own, StringComparison.Ordinal)).ToList();
        for (var i = 0; i < older.Count; i++)
        {
            try
            {
                // False: it is no longer open (it triggered or was cancelled meanwhile), which clears the way as well.
                await venue.CancelConditionalOrderAsync(older[i].ClientAlgoId, ct).ConfigureAwait(false);
            }
            catch (BinanceException ex) when (i == 0 && ex is BinanceApiException or BinanceRateLimitException)
            {
                throw new ProtectionNotReplacedException(type, ex);
            }
        }

        return older;
    }

    /// <summary>
    /// Cancels the protective orders that <paramref name="kept"/> replace (every other open closePosition order of the
    /// symbol on the closing side of <paramref name="side"/> whose type is one of the kept ones) on a listing of the
    /// symbol's open conditional orders the caller has already read. Binance does not let two stand (-4130); this is
    /// reconciliation's repair should a listing ever show them. Every cancel is tried; the answer lists the orders
    /// cancelled and the cancels that failed.
    /// </summary>
    public async Task<(IReadOnlyList<ConditionalOrderInfo> Cancelled, IReadOnlyList<Exception> Failures)> CancelSupersededAsync(
        DomainSide side, IReadOnlyCollection<ConditionalOrderInfo> kept, IReadOnlyList<ConditionalOrderInfo> open, CancellationToken ct)
    {
        var superseded = kept.Select(k => k.Type).Distinct()
            .SelectMany(type => Guarding(open, side, type))
            .Where(o => !kept.Any(k => string.Equals(k.ClientAlgoId, o.ClientAlgoId, StringComparison.Ordinal)))
            .ToList();
        return await CancelEachAsync(superseded, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Cancels each of <paramref name="orders"/>, all of them tried whatever one of them does: those the venue cancelled
    /// (an order it no longer holds is not among them, nor an error), and the venue's refusals.
    /// </summary>
    public async Task<(IReadOnlyList<ConditionalOrderInfo> Cancelled, IReadOnlyList<Exception> Failures)> CancelEachAsync(
        IReadOnlyList<ConditionalOrderInfo> orders, CancellationToken ct)
    {
        var outcomes = await Task.WhenAll(orders.Select(async o =>
        {
            try
            {
                return (Order: o, Cancelled: await venue.CancelConditionalOrderAsync(o.ClientAlgoId, ct).ConfigureAwait(false), Failure: (Exception?)null);
            }
            catch (BinanceException ex)
            {
                return (Order: o, Cancelled: false, Failure: (Exception?)ex);
            }
        })).ConfigureAwait(false);
        return (outcomes.Where(x => x.Cancelled).Select(x => x.Order).ToList(), outcomes.Where(x => x.Failure is not null).Select(x => x.Failure!).ToList());
    }

    /// <summary>
    /// The closePosition orders of <paramref name="type"/> that guard a <paramref name="side"/> position (on its closing
    /// side), oldest first.
    /// </summary>
    public static List<ConditionalOrderInfo> Guarding(IEnumerable<ConditionalOrderInfo> orders, DomainSide side, ConditionalOrderType type)
    {
        var closing = ExecutionWire.ClosingOrder(side);
        return orders.Where(o => o.Type == type && o.ClosePosition && o.Side == closing)
            .OrderBy(o => o.CreateTime).ThenBy(o => o.AlgoId).ToList();
    }

    /// <summary>Cancels every open order of the symbol, plain and conditional.</summary>
    public async Task CancelAllAsync(string symbol, CancellationToken ct)
    {
        var conditional = venue.CancelAllOpenConditionalOrdersAsync(symbol, ct);
        var plain = venue.CancelAllOpenOrdersAsync(symbol, ct);
        await conditional.ConfigureAwait(false);
        await plain.ConfigureAwait(false);
    }

    /// <summary>
    /// The symbol's open orders cancelled once a close has filled (never before: until then they guard the position). A
    /// cancel that fails does not undo the close, and is logged and returned (null when all went): the orders left have
    /// nothing to guard (closePosition, reduce-only), and reconciliation cancels the protective (conditional) orders left on
    /// a symbol with no position.
    /// </summary>
    public async Task<BinanceException?> CancelAllAfterCloseAsync(string symbol, string closeClientOrderId, CancellationToken ct)
    {
        try
        {
            await CancelAllAsync(symbol, ct).ConfigureAwait(false);
            return null;
        }
        catch (BinanceException ex)
        {
            Logging.Log.OrdersLeftAfterClose(logger, ex, symbol, closeClientOrderId);
            return ex;
        }
    }
}

/// <summary>
/// A stop-loss or take-profit that was not replaced: the position's older one of its kind could not be cancelled (the
/// venue refused the cancel, or refused the new one with -4130), so it still guards the position, and the new one was
/// not placed (Binance keeps one per direction).
/// </summary>
public sealed class ProtectionNotReplacedException(ConditionalOrderType type, Exception inner)
    : Exception($"the position's earlier {(type == ConditionalOrderType.StopMarket ? "stop-loss" : "take-profit")} could not be replaced ({inner.Message}); it still guards the position, and the new price was not placed", inner);
