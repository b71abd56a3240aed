using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
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
/// <remarks>
/// In parts: the order-id checks, the queue hand-off, fills and risk events here; the record reads (LedgerBook.Records.cs);
/// the position writes with their trades (LedgerBook.Writes.cs); and the trade rows and the figures written on them
/// (LedgerBook.Trades.cs).
/// </remarks>
public sealed partial class LedgerBook(
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

    /// <summary>An order's fills at the venue and their commission in USDT (<see cref="OrderFills.Of"/>; positive when paid).</summary>
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

        return OrderFills.Of(fills);
    }

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
            Reason = RiskEventReason(reason),
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
