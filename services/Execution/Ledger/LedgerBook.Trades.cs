using TradeEngine.Binance.Models;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Mapping;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Ledger;

// LedgerBook's trade rows, and the figures a close or reduce writes (its reason, its realized PnL).
public sealed partial class LedgerBook
{
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

    /// <summary>The length a risk event's reason is cut to (the Ledger takes 1,024).</summary>
    public const int MaxRiskEventReason = 1000;

    /// <summary>
    /// A risk event's reason as sent to the Ledger: each control character (the line breaks an exception's or the venue's
    /// message may hold, which the Ledger refuses in text) becomes a space, and the whole is cut as
    /// <see cref="RecordedReason"/> cuts, to <see cref="MaxRiskEventReason"/>. Before, a reason holding a line break was
    /// refused and the event lost (a failure to log one is logged, never thrown), and the cut could split a surrogate pair.
    /// </summary>
    public static string RiskEventReason(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var clean = reason.Any(char.IsControl) ? string.Create(reason.Length, reason, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = char.IsControl(text[i]) ? ' ' : text[i];
            }
        }) : reason;
        return Wire.Cut(clean, MaxRiskEventReason);
    }

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

    /// <summary>One trade row per order: the order's average price, filled quantity and summed commission (<see cref="OrderFills.OrderTradeFee"/>).</summary>
    public Task<RecordTradeResponse?> RecordTradeAsync(
        OrderInfo order, OrderFills fills, decimal realizedPnl, string? positionId, string? strategy, CancellationToken cancellationToken)
    {
        var request = TradeRequest(order, fills, realizedPnl, positionId, strategy);
        return writes.WriteAsync("trade " + order.ClientOrderId,
            async ct => await ledger.RecordTradeAsync(request, cancellationToken: ct).ConfigureAwait(false), cancellationToken);
    }

    private RecordTradeRequest TradeRequest(OrderInfo order, OrderFills fills, decimal realizedPnl, string? positionId, string? strategy)
    {
        var (fee, feeAsset) = fills.OrderTradeFee();
        return new()
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
            FeeAsset = feeAsset,
        };
    }
}
