using System.Globalization;
using TradeEngine.Binance.Models;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Ledger;

/// <summary>An order's fills as the venue lists them, and the commission they cost the USDT wallet.</summary>
/// <param name="Fee">
/// The fills' commissions paid in USDT: what the Ledger books as the change's fee. A commission the venue charged in
/// another asset (BNB, with the account's BNB fee discount on) is not in it: it is recorded on its trade with its asset,
/// never converted (see <see cref="Of"/>).
/// </param>
/// <param name="ClientOrderIds">
/// The client id of each order the fills belong to, when they are several orders' (a close the venue made, read back by
/// reconciliation): each fill is recorded under its own order's id. Null: all are the one order's.
/// </param>
public sealed record OrderFills(decimal Fee, IReadOnlyList<UserTrade> Trades, IReadOnlyDictionary<long, string>? ClientOrderIds = null)
{
    /// <summary>The margin asset of every USD-M symbol we trade; fees in it are the ones the Ledger sums.</summary>
    public const string Usdt = "USDT";

    /// <summary>Fills and their USDT commission (<see cref="Fee"/>).</summary>
    public static OrderFills Of(IReadOnlyList<UserTrade> trades, IReadOnlyDictionary<long, string>? clientOrderIds = null)
    {
        ArgumentNullException.ThrowIfNull(trades);
        return new OrderFills(trades.Where(t => InUsdt(t.CommissionAsset)).Sum(t => t.Commission), trades, clientOrderIds);
    }

    /// <summary>
    /// Whether a commission is in USDT. Binance names the asset on every fill; a fill without one (an older simulator's
    /// state) is USDT, as every fee was before assets were read.
    /// </summary>
    public static bool InUsdt(string? commissionAsset) => string.IsNullOrEmpty(commissionAsset) || commissionAsset == Usdt;

    /// <summary>
    /// The commission for a single trade row standing for the whole order (when its fills cannot travel with the change):
    /// the USDT sum, or, when every commission was charged in one other asset, that asset's sum under its name (so a
    /// fully BNB-paid order keeps its fee on record). Mixed assets keep the USDT part only.
    /// </summary>
    public (decimal Fee, string Asset) OrderTradeFee()
    {
        var others = Trades.Where(t => !InUsdt(t.CommissionAsset) && t.Commission != 0m).ToList();
        var paidInUsdt = Trades.Any(t => InUsdt(t.CommissionAsset) && t.Commission != 0m);
        return others.Count > 0 && !paidInUsdt && others.All(t => t.CommissionAsset == others[0].CommissionAsset)
            ? (others.Sum(t => t.Commission), others[0].CommissionAsset)
            : (Fee, string.Empty);
    }

    /// <summary>One fill as the Ledger records it: under <paramref name="clientOrderId"/>, its commission with its asset (empty for USDT).</summary>
    public static LedgerV1.Fill LedgerFill(UserTrade trade, string clientOrderId)
    {
        ArgumentNullException.ThrowIfNull(trade);
        return new LedgerV1.Fill
        {
            ClientOrderId = clientOrderId,
            ExchangeTradeId = trade.Id.ToString(CultureInfo.InvariantCulture),
            ExchangeOrderId = trade.OrderId.ToString(CultureInfo.InvariantCulture),
            Price = Wire.Format(trade.Price),
            Quantity = Wire.Format(trade.Qty),
            Fee = Wire.Format(trade.Commission),
            ExecutedAt = Wire.Timestamp(trade.Time),
            FeeAsset = InUsdt(trade.CommissionAsset) ? string.Empty : trade.CommissionAsset,
        };
    }

    /// <summary>The USDT part of Ledger fills' fees (what their change's fee must be).</summary>
    public static decimal UsdtFee(IEnumerable<LedgerV1.Fill> fills) =>
        fills.Where(f => InUsdt(f.FeeAsset)).Sum(f => Wire.Decimal(f.Fee, "fee"));
}
