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
public sealed class ProtectiveOrders(IBinanceClient venue)
{
    public static string StopLossId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "sl");

    public static string TakeProfitId(string clientOrderId) => ExecutionWire.Derived(clientOrderId, "tp");

    public Task<ConditionalOrderInfo> PlaceStopLossAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        venue.PlaceConditionalOrderAsync(
            new NewConditionalOrder(symbol, ExecutionWire.ClosingOrder(side), ConditionalOrderType.StopMarket, trigger), key, ct);

    public Task<ConditionalOrderInfo> PlaceTakeProfitAsync(string symbol, DomainSide side, decimal trigger, string key, CancellationToken ct) =>
        venue.PlaceConditionalOrderAsync(
            new NewConditionalOrder(symbol, ExecutionWire.ClosingOrder(side), ConditionalOrderType.TakeProfitMarket, trigger), key, ct);

    /// <summary>
    /// On a resumed open: the conditional order its first attempt placed under <paramref name="key"/>, in whatever state
    /// it is now, or null when there is none (then it is placed). One that is no longer open (a later add replaced it, it
    /// triggered, someone cancelled it) is not placed again: the venue would take the id anew, and the old price would
    /// come back over a newer one.
    /// </summary>
    public Task<ConditionalOrderInfo?> FindPlacedAsync(string key, CancellationToken ct) =>
        venue.GetConditionalOrderAsync(ClientOrderIds.FromIdempotencyKey(key), ct);

    /// <summary>
    /// Cancels the protective orders that <paramref name="kept"/> replace: every other open closePosition order of the
    /// symbol on the closing side of <paramref name="side"/> whose type is one of the kept ones. An add with a new
    /// stop-loss (or take-profit) leaves one of each at the venue, at the latest price the caller asked for, instead
    /// of piling them up: older closePosition orders would still close the whole position at their own (perhaps
    /// tighter) triggers, and every symbol has room for only ten (-4045). Every cancel is tried; the answer lists the
    /// orders cancelled and the cancels that failed.
    /// </summary>
    public async Task<(IReadOnlyList<ConditionalOrderInfo> Cancelled, IReadOnlyList<Exception> Failures)> CancelSupersededAsync(
        string symbol, DomainSide side, IReadOnlyCollection<ConditionalOrderInfo> kept, CancellationToken ct)
    {
        if (kept.Count == 0)
        {
            return ([], []);
        }

        var open = await venue.GetOpenConditionalOrdersAsync(symbol, ct).ConfigureAwait(false);
        return await CancelSupersededAsync(side, kept, open, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="CancelSupersededAsync(string, DomainSide, IReadOnlyCollection{ConditionalOrderInfo}, CancellationToken)"/>
    /// on a listing of the symbol's open conditional orders the caller has already read.
    /// </summary>
    public async Task<(IReadOnlyList<ConditionalOrderInfo> Cancelled, IReadOnlyList<Exception> Failures)> CancelSupersededAsync(
        DomainSide side, IReadOnlyCollection<ConditionalOrderInfo> kept, IReadOnlyList<ConditionalOrderInfo> open, CancellationToken ct)
    {
        var superseded = kept.Select(k => k.Type).Distinct()
            .SelectMany(type => Guarding(open, side, type))
            .Where(o => !kept.Any(k => string.Equals(k.ClientAlgoId, o.ClientAlgoId, StringComparison.Ordinal)))
            .ToList();
        var outcomes = await Task.WhenAll(superseded.Select(async o =>
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
}
