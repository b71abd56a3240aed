using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Ledger;

// LedgerBook's position writes: open, reduce, close and amend, and the changes written with their order's trades.
public sealed partial class LedgerBook
{
    public Task<PositionRecord?> OpenAsync(OpenPositionRequest request, CancellationToken cancellationToken)
    {
        request.Account = Account;
        request.Venue = Venue;
        return writes.WriteAsync("open " + request.IdempotencyKey,
            async ct => await ledger.OpenPositionAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);
    }

    public Task<PositionRecord?> CloseAsync(ClosePositionRequest request, CancellationToken cancellationToken) =>
        writes.WriteAsync("close " + request.IdempotencyKey,
            async ct => await ledger.ClosePositionAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);

    public Task<PositionRecord?> ReduceAsync(ReducePositionRequest request, CancellationToken cancellationToken) =>
        writes.WriteAsync("reduce " + request.IdempotencyKey,
            async ct => await ledger.ReducePositionAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);

    /// <summary>
    /// Sets <paramref name="record"/>'s leverage to <paramref name="leverage"/>, what the venue now applies to the position
    /// (AmendPosition), under <paramref name="key"/> (made a callee key): retried and, past the inline budget, queued like
    /// every write that follows something the venue has done.
    /// </summary>
    public Task<PositionRecord?> AmendLeverageAsync(string key, PositionRecord record, int leverage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var request = new AmendPositionRequest { IdempotencyKey = ExecutionWire.CalleeKey(key), PositionId = record.PositionId, Leverage = leverage };
        return writes.WriteAsync("leverage " + request.IdempotencyKey,
            async ct => await ledger.AmendPositionAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);
    }

    /// <summary>
    /// Sets <paramref name="record"/>'s stop-loss and take-profit prices (a null one left as it is) to those of the orders
    /// now guarding the position at the venue (AmendPosition, its leverage left), under <paramref name="key"/> (made a
    /// callee key): retried and queued as <see cref="AmendLeverageAsync"/>.
    /// </summary>
    public Task<PositionRecord?> AmendProtectionAsync(string key, PositionRecord record, decimal? stopLoss, decimal? takeProfit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var request = new AmendPositionRequest
        {
            IdempotencyKey = ExecutionWire.CalleeKey(key), PositionId = record.PositionId,
            StopLossPrice = Wire.Format(stopLoss), TakeProfitPrice = Wire.Format(takeProfit),
        };
        return writes.WriteAsync("protection " + request.IdempotencyKey,
            async ct => await ledger.AmendPositionAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);
    }

    /// <summary>
    /// Opens the position record and records its opening trades, linked to it (see <see cref="WithTradesAsync{TRequest}"/>).
    /// </summary>
    public Task<PositionRecord?> OpenWithTradeAsync(
        OpenPositionRequest request, OrderInfo order, OrderFills fills, string? strategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Account = Account;
        request.Venue = Venue;
        return WithTradesAsync("open " + request.IdempotencyKey, request, LedgerFills(order, fills), r => r.Fills,
            (r, o) => ledger.OpenPositionAsync(r, o), record => TradeRequest(order, fills, 0m, record.PositionId, strategy), cancellationToken);
    }

    /// <summary>Reduces the position record and records the reducing order's trades (see <see cref="WithTradesAsync{TRequest}"/>).</summary>
    public Task<PositionRecord?> ReduceWithTradesAsync(
        ReducePositionRequest request, OrderInfo order, OrderFills fills, decimal realizedPnl, string? strategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WithTradesAsync("reduce " + request.IdempotencyKey, request, LedgerFills(order, fills), r => r.Fills,
            (r, o) => ledger.ReducePositionAsync(r, o), record => TradeRequest(order, fills, realizedPnl, record.PositionId, strategy),
            cancellationToken);
    }

    /// <summary>
    /// Closes <paramref name="record"/> by <paramref name="order"/>: exit at its average price and time, its fills' fees,
    /// and the PnL it realizes from the record's entry, with its fills as the record's trades.
    /// </summary>
    public Task<PositionRecord?> CloseByOrderAsync(
        PositionRecord record, OrderInfo order, OrderFills fills, string reason, string key, CancellationToken cancellationToken,
        bool liquidated = false)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(fills);
        return CloseWithTradesAsync(new ClosePositionRequest
        {
            IdempotencyKey = key,
            PositionId = record.PositionId,
            ExitPrice = Wire.Format(order.AvgPrice),
            Fee = Wire.Format(fills.Fee),
            ClosedAt = Wire.Timestamp(order.UpdateTime),
            ExitReason = RecordedReason(reason),
            Liquidated = liquidated,
        }, Wire.Decimal(record.Quantity, "quantity"), order, fills, RealizedPnl(record, order), record.Strategy, cancellationToken);
    }

    /// <summary>
    /// Closes the position record and records the closing order's trades (see <see cref="WithTradesAsync{TRequest}"/>);
    /// the fills travel with the close only when the order closed exactly the recorded quantity.
    /// </summary>
    public Task<PositionRecord?> CloseWithTradesAsync(
        ClosePositionRequest request, decimal recordedQuantity, OrderInfo order, OrderFills fills, decimal realizedPnl, string? strategy,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(order);
        var ledgerFills = order.ExecutedQty == recordedQuantity ? LedgerFills(order, fills) : [];
        return WithTradesAsync("close " + request.IdempotencyKey, request, ledgerFills, r => r.Fills,
            (r, o) => ledger.ClosePositionAsync(r, o), record => TradeRequest(order, fills, realizedPnl, record.PositionId, strategy),
            cancellationToken);
    }

    /// <summary>
    /// A position change and the trades of the order behind it, as one write unit: retried (and, past the inline budget,
    /// queued) together, so a trade never lands without its change. When the venue's fills account for the whole order,
    /// each fill travels inside the change's call and the Ledger writes both in one transaction. Otherwise (a fill not
    /// listed yet, more fills than a request holds), or when the Ledger refuses the fills (a trade id it already holds,
    /// fills that disagree with the record), the change is written alone and the order recorded after it as one trade
    /// at its average price: a refusal stores nothing under the key, so the plain change can still land. Every write is
    /// keyed, so running the unit again replays what already landed.
    /// </summary>
    private Task<PositionRecord?> WithTradesAsync<TRequest>(
        string name,
        TRequest request,
        IReadOnlyList<Fill> fills,
        Func<TRequest, Google.Protobuf.Collections.RepeatedField<Fill>> fillsOf,
        Func<TRequest, CallOptions, AsyncUnaryCall<PositionRecord>> write,
        Func<PositionRecord, RecordTradeRequest> orderTrade,
        CancellationToken cancellationToken)
        where TRequest : Google.Protobuf.IMessage<TRequest>, Google.Protobuf.IDeepCloneable<TRequest>
    {
        return writes.WriteAsync(name + " and its trades", async ct =>
        {
            if (fills.Count > 0)
            {
                var withFills = request.Clone();
                fillsOf(withFills).AddRange(fills);
                try
                {
                    return await write(withFills, new CallOptions(cancellationToken: ct)).ConfigureAwait(false);
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument)
                {
                    Log.FillsRefused(logger, name, ex.Status.Detail);
                }
            }

            var record = await write(request, new CallOptions(cancellationToken: ct)).ConfigureAwait(false);
            await ledger.RecordTradeAsync(orderTrade(record), cancellationToken: ct).ConfigureAwait(false);
            return record;
        }, cancellationToken);
    }

    /// <summary>
    /// An order's fills as the Ledger records them (one trade each, under the venue's trade id) when they account for
    /// the whole filled quantity; otherwise none, and the caller records the order as one trade at its average price.
    /// </summary>
    private static IReadOnlyList<Fill> LedgerFills(OrderInfo order, OrderFills fills)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(fills);
        // More fills than one request may carry (the Ledger's limit) are recorded as one trade per order instead.
        if (fills.Trades.Count == 0 || fills.Trades.Count > MaxFillsPerRequest || fills.Trades.Sum(t => t.Qty) != order.ExecutedQty)
        {
            return [];
        }

        return fills.Trades.Select(t => OrderFills.LedgerFill(t, fills.ClientOrderIds?.GetValueOrDefault(t.OrderId) ?? order.ClientOrderId)).ToList();
    }
}
