using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Options;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Ledger;

/// <summary>
/// What Execution writes to and reads from the Ledger. Every write carries a key derived from the client order id
/// (or event id) and a payload built only from venue facts (fill price, quantity, fill time, fee), so a repeat after
/// a crash replays the first write instead of adding a row.
/// </summary>
public sealed class LedgerBook(
    LedgerService.LedgerServiceClient ledger,
    IBinanceClient venue,
    LedgerWrites writes,
    IOptions<ExecutionOptions> options,
    TimeProvider time,
    ILogger<LedgerBook> logger)
{
    /// <summary>The most fills the Ledger takes in one request (its PositionCommands.MaxFills).</summary>
    public const int MaxFillsPerRequest = 200;

    public string Venue => options.Value.Venue;

    public string Account => options.Value.Account;

    /// <summary>Whether Ledger writes wait in the background queue: a record read now may be missing one of them.</summary>
    public bool HasQueuedWrites => writes.Backlog > 0;

    /// <summary>Whether Ledger writes made before the caller still wait (see <see cref="LedgerWrites.PendingAhead"/>).</summary>
    public bool HasWritesPendingAhead => writes.PendingAhead;

    /// <summary>
    /// The trades the Ledger holds for one order on this venue (its client order id), oldest first. A Ledger older than
    /// GetOrderTrades (a rolling upgrade that updated Execution first) answers UNIMPLEMENTED: that is passed on as
    /// FAILED_PRECONDITION naming the cause, and nothing is decided without the answer. A call fails (retry it after the
    /// upgrade); a queued write is dropped with an error rather than holding up every write behind it, and the
    /// reconciliation after the upgrade books what it would have; a reconciliation pass leaves the symbol for the next.
    /// </summary>
    public async Task<IReadOnlyList<TradeRecord>> OrderTradesAsync(string symbol, string clientOrderId, CancellationToken cancellationToken)
    {
        try
        {
            return (await ledger.GetOrderTradesAsync(
                new GetOrderTradesRequest { Venue = Venue, Symbol = symbol, ClientOrderId = clientOrderId }, cancellationToken: cancellationToken)
                .ConfigureAwait(false)).Trades;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            Log.OrderTradesUnavailable(logger, symbol, clientOrderId);
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "ledger: the Ledger cannot list an order's trades (GetOrderTrades is UNIMPLEMENTED: it is older than Execution); retry once it is upgraded"));
        }
    }

    private static readonly TimeSpan SpentCheckDeadline = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The symbol on which the Ledger holds trades of <paramref name="clientOrderId"/> (any symbol of this venue), or null:
    /// asked, before anything is sent, of an id the venue does not know on the requested symbol. Binance keeps client
    /// order ids per symbol and forgets an order 90 days after it was made, and this process's own memory of an id ends
    /// with a restart: an id spent on another symbol, or long ago, would be placed again, and the Ledger would refuse the
    /// fill's write under that key after the order had filled. A Ledger that is not answering, or is older than the
    /// any-symbol look-up (it refuses the empty symbol), gives null: the order goes ahead unchecked, as before.
    /// </summary>
    public async Task<string?> SpentOnAsync(string symbol, string clientOrderId, CancellationToken cancellationToken)
    {
        try
        {
            // A second at most: the check must not hold the symbol's lock (and age the account read it is judged with)
            // for the default deadline while the Ledger hangs.
            var trades = (await ledger.GetOrderTradesAsync(
                new GetOrderTradesRequest { Venue = Venue, ClientOrderId = clientOrderId },
                deadline: DateTime.UtcNow + SpentCheckDeadline, cancellationToken: cancellationToken).ConfigureAwait(false)).Trades;
            return trades.Count == 0 ? null : trades[0].Symbol;
        }
        catch (RpcException ex) when ((LedgerWrites.IsTransient(ex) || ex.StatusCode is StatusCode.Unimplemented or StatusCode.InvalidArgument)
                                      && !cancellationToken.IsCancellationRequested)
        {
            Log.SpentIdUnchecked(logger, ex, symbol, clientOrderId, ex.StatusCode);
            return null;
        }
    }

    /// <summary>
    /// For an id the venue does not know on <paramref name="symbol"/>: ALREADY_EXISTS when the Ledger holds trades of it
    /// (<paramref name="spentOn"/>, the look-up <see cref="SpentOnAsync"/> started alongside the venue's), spent on another
    /// symbol or on an order the venue has forgotten. Placing it would fill an order whose write the Ledger then refuses.
    /// </summary>
    public static async Task RequireUnspentAsync(Task<string?> spentOn, string clientOrderId, string symbol)
    {
        ArgumentNullException.ThrowIfNull(spentOn);
        if (await spentOn.ConfigureAwait(false) is { } spent)
        {
            throw Spent(clientOrderId, symbol, spent);
        }
    }

    /// <summary>ALREADY_EXISTS for an id the Ledger holds trades of on <paramref name="spentOn"/>; nothing has been sent.</summary>
    private static RpcException Spent(string clientOrderId, string symbol, string spentOn) =>
        new(new Status(StatusCode.AlreadyExists, string.Equals(symbol, spentOn, StringComparison.Ordinal)
            ? $"client_order_id: {clientOrderId} was spent on an earlier {symbol} order the venue no longer lists (the Ledger holds its trades); nothing was sent. Use a new client_order_id"
            : $"client_order_id: {clientOrderId} was spent on a {spentOn} order (the Ledger holds its trades); nothing was sent. Use a new client_order_id"));

    /// <summary>
    /// Runs <paramref name="work"/> with the symbol's open record once every write queued before it has landed: how a
    /// close or reduce done at the venue while its position's record was still queued (or unreadable) gets recorded.
    /// </summary>
    public void AfterQueuedWrites(string description, string symbol, Func<PositionRecord?, CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        writes.Defer(description, async ct => await work(await OpenRecordAsync(symbol, ct).ConfigureAwait(false), ct).ConfigureAwait(false));
    }

    /// <summary>
    /// The symbol's open record; <c>Answered</c> false when the Ledger could not be read (transiently, or not within
    /// <paramref name="deadline"/> when one is given: a read made under the symbol's lock for bookkeeping only).
    /// </summary>
    public async Task<(PositionRecord? Record, bool Answered)> TryOpenRecordAsync(string symbol, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        try
        {
            return (await OpenRecordAsync(symbol, cancellationToken, deadline).ConfigureAwait(false), true);
        }
        catch (RpcException ex) when (LedgerWrites.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            return (null, false);
        }
    }

    /// <summary>A position record by its id, or null when the Ledger holds none.</summary>
    public Task<PositionRecord?> RecordAsync(string positionId, CancellationToken cancellationToken) =>
        FindRecordAsync(new GetPositionRequest { PositionId = positionId }, cancellationToken);

    /// <summary>The open position record of a symbol, or null (within <paramref name="deadline"/> when one is given).</summary>
    public Task<PositionRecord?> OpenRecordAsync(string symbol, CancellationToken cancellationToken, TimeSpan? deadline = null) =>
        FindRecordAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = Venue, Symbol = symbol, Account = Account } }, cancellationToken, deadline);

    private async Task<PositionRecord?> FindRecordAsync(GetPositionRequest request, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        try
        {
            return await ledger.GetPositionAsync(request, deadline: deadline is { } limit ? DateTime.UtcNow + limit : null, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<PositionRecord>> OpenRecordsAsync(CancellationToken cancellationToken)
    {
        var response = await ledger.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = Venue, Account = Account }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.Positions;
    }

    /// <summary>
    /// The symbols of records closed at or after <paramref name="since"/> (minutes ago: a page or two). Every page is read,
    /// up to <see cref="MaxPagesRead"/> (at least 17,000 records): the Ledger ends a page early when its rows carry long
    /// texts, so the first page need not hold them all.
    /// </summary>
    public async Task<IReadOnlyList<string>> SymbolsClosedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var symbols = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var record in ClosedSinceAsync(null, since, cancellationToken).ConfigureAwait(false))
        {
            symbols.Add(record.Symbol);
        }

        return [.. symbols];
    }

    /// <summary>
    /// The record of a symbol that <paramref name="order"/> closed, as a resumed close replays against it: the one open
    /// when the order filled, that is opened at or before the fill and closed at or after it. A close records the fill's
    /// time (the order's update time) and a reconciliation the same or a later one; a record closed before the order is
    /// another position's, and taking it would hide a close the Ledger never recorded. Nor is it one opened after the fill
    /// (a later position, closed since): before, the last record closed was taken, and a close retried after a restart
    /// answered with a later position's id, PnL, fees and funding. Closed or liquidated: reconciliation records a venue
    /// close that a liquidation order was part of as liquidated, and it is still the record a close of ours may have ended.
    /// </summary>
    public async Task<PositionRecord?> ClosedByRecordAsync(string symbol, OrderInfo order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        // Newest opened first: the first one opened at or before the fill is the one (one record of a symbol is open at a
        // time). The pages are those of the records closed since the fill, few unless the retry comes much later.
        await foreach (var record in ClosedSinceAsync(symbol, order.UpdateTime, cancellationToken).ConfigureAwait(false))
        {
            if (record.OpenedAt is { } opened && opened.ToDateTimeOffset() <= order.UpdateTime)
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>
    /// The venue's records (of <paramref name="symbol"/>, or every symbol) closed at or after <paramref name="since"/>,
    /// newest opened first, page after page up to <see cref="MaxPagesRead"/>. Any status: closed_since leaves out the open
    /// records, and keeps both the closed and the liquidated.
    /// </summary>
    private async IAsyncEnumerable<PositionRecord> ClosedSinceAsync(
        string? symbol, DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new GetPositionsRequest
        {
            Venue = Venue, Symbol = symbol ?? string.Empty, ClosedSince = Wire.Timestamp(since), Page = new PageRequest { PageSize = 1000 },
        };
        for (var page = 0; page < MaxPagesRead; page++)
        {
            var response = await ledger.GetPositionsAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var record in response.Positions)
            {
                yield return record;
            }

            if (response.NextPageToken.Length == 0)
            {
                yield break;
            }

            request.Page.PageToken = response.NextPageToken;
        }
    }

    /// <summary>The most pages of one list read (20 of up to 1,000 records).</summary>
    private const int MaxPagesRead = 20;

    /// <summary>An order's fills at the venue and their summed commission (USDT, positive when paid).</summary>
    /// <remarks>
    /// Asked by order id (userTrades' orderId): exactly this order's fills whatever else traded meanwhile, so a resumed
    /// write builds the same request as the first attempt did.
    /// </remarks>
    public async Task<OrderFills> FillsAsync(OrderInfo order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var trades = await venue.GetUserTradesAsync(new UserTradesQuery(order.Symbol, Limit: 1000, OrderId: order.OrderId), cancellationToken)
            .ConfigureAwait(false);
        var fills = trades.Where(t => t.OrderId == order.OrderId).ToList();
        if (fills.Count == 0)
        {
            Log.FeeUnknown(logger, order.Symbol, order.OrderId);
            return new OrderFills(0m, fills);
        }

        return new OrderFills(fills.Sum(t => t.Commission), fills);
    }

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
    /// Opens the position record and records its opening trades, linked to it (see <see cref="WithTradesAsync{TRequest}"/>).
    /// </summary>
    public Task<PositionRecord?> OpenWithTradeAsync(
        OpenPositionRequest request, OrderInfo order, OrderFills fills, string? strategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Account = Account;
        request.Venue = Venue;
        return WithTradesAsync("open " + request.IdempotencyKey, request, LedgerFills(order, fills), r => r.Fills,
            (r, o) => ledger.OpenPositionAsync(r, o), record => TradeRequest(order, fills.Fee, 0m, record.PositionId, strategy), cancellationToken);
    }

    /// <summary>Reduces the position record and records the reducing order's trades (see <see cref="WithTradesAsync{TRequest}"/>).</summary>
    public Task<PositionRecord?> ReduceWithTradesAsync(
        ReducePositionRequest request, OrderInfo order, OrderFills fills, decimal realizedPnl, string? strategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WithTradesAsync("reduce " + request.IdempotencyKey, request, LedgerFills(order, fills), r => r.Fills,
            (r, o) => ledger.ReducePositionAsync(r, o), record => TradeRequest(order, fills.Fee, realizedPnl, record.PositionId, strategy),
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
            (r, o) => ledger.ClosePositionAsync(r, o), record => TradeRequest(order, fills.Fee, realizedPnl, record.PositionId, strategy),
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

        return fills.Trades.Select(t => new Fill
        {
            ClientOrderId = fills.ClientOrderIds?.GetValueOrDefault(t.OrderId) ?? order.ClientOrderId,
            ExchangeTradeId = t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ExchangeOrderId = t.OrderId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Price = Wire.Format(t.Price),
            Quantity = Wire.Format(t.Qty),
            Fee = Wire.Format(t.Commission),
            ExecutedAt = Wire.Timestamp(t.Time),
        }).ToList();
    }

    /// <summary>The Ledger's limit on a close's or reduce's reason (its column).</summary>
    public const int MaxRecordedReason = 256;

    /// <summary>
    /// A reason as the Ledger records it on a close or reduce: cut to <see cref="MaxRecordedReason"/> characters, the last
    /// one an ellipsis, never inside a surrogate pair. Reasons reach here longer than a caller may send (close-all takes
    /// 1,000 characters, a kill switch's "Kill switch: " prefix, a partial close's suffix), and a write refused for its
    /// reason after the venue has acted would leave the record open. The cut is deterministic, so a retried write is the
    /// same write.
    /// </summary>
    public static string RecordedReason(string reason) => Wire.Cut(reason, MaxRecordedReason);

    /// <summary>
    /// What a reducing or closing order realizes on a record: its filled quantity from the entry to its average price,
    /// rounded to 8 places, half away from zero, as the Ledger rounds each fill's. Unrounded, an entry averaged over adds
    /// (8 places) times a quantity (3) carries 11, which the Ledger refuses for its 8-place columns after the venue has acted.
    /// </summary>
    public static decimal RealizedPnl(PositionRecord record, OrderInfo order)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(order);
        var exact = Domain.Positions.PositionMath.RealizedPnl(
            record.Side == Side.Long ? Domain.Side.Long : Domain.Side.Short,
            order.ExecutedQty, Wire.Decimal(record.EntryPrice, "entry_price"), order.AvgPrice, 0m);
        return Wire.RoundMoney(exact);
    }

    /// <summary>One trade row per order: the order's average price, filled quantity and summed commission.</summary>
    public Task<RecordTradeResponse?> RecordTradeAsync(
        OrderInfo order, decimal fee, decimal realizedPnl, string? positionId, string? strategy, CancellationToken cancellationToken)
    {
        var request = TradeRequest(order, fee, realizedPnl, positionId, strategy);
        return writes.WriteAsync("trade " + order.ClientOrderId,
            async ct => await ledger.RecordTradeAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);
    }

    private RecordTradeRequest TradeRequest(OrderInfo order, decimal fee, decimal realizedPnl, string? positionId, string? strategy) =>
        new()
        {
            ClientOrderId = order.ClientOrderId,
            Venue = Venue,
            ExchangeTradeId = "order-" + order.OrderId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ExchangeOrderId = order.OrderId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Symbol = order.Symbol,
            Side = ExecutionWire.Trade(order.Side),
            Price = Wire.Format(order.AvgPrice),
            Quantity = Wire.Format(order.ExecutedQty),
            Fee = Wire.Format(fee),
            RealizedPnl = Wire.Format(realizedPnl),
            ExecutedAt = Wire.Timestamp(order.UpdateTime),
            PositionId = positionId ?? string.Empty,
            Strategy = strategy ?? string.Empty,
        };

    /// <summary>Logs a risk event; a failure is logged, never thrown (the event describes what already happened).</summary>
    public async Task LogRiskEventAsync(
        string key, string eventType, RiskEventSeverity severity, string reason, string? symbol, CancellationToken cancellationToken,
        decimal? metric = null, decimal? limit = null)
    {
        var request = new LogRiskEventRequest
        {
            IdempotencyKey = ExecutionWire.CalleeKey(key),
            EventType = eventType,
            Severity = severity,
            Reason = reason.Length > 1000 ? reason[..1000] : reason,
            Symbol = symbol ?? string.Empty,
            MetricValue = Wire.Format(metric),
            LimitValue = Wire.Format(limit),
            OccurredAt = Wire.Timestamp(time.GetUtcNow()),
        };
        try
        {
            await writes.WriteAsync("risk event " + key,
                async ct => await ledger.LogRiskEventAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // The same event was logged before (a repeat of the same action at another instant): nothing to add.
        }
        catch (RpcException ex)
        {
            Log.RiskEventFailed(logger, ex, eventType);
        }
    }
}

/// <summary>An order's fills as the venue lists them, and their summed commission.</summary>
/// <param name="ClientOrderIds">
/// The client id of each order the fills belong to, when they are several orders' (a close the venue made, read back by
/// reconciliation): each fill is recorded under its own order's id. Null: all are the one order's.
/// </param>
public sealed record OrderFills(decimal Fee, IReadOnlyList<UserTrade> Trades, IReadOnlyDictionary<long, string>? ClientOrderIds = null);
