using TradeEngine.Binance.Models;

namespace TradeEngine.Execution.Ledger;

/// <summary>An order's fills as the venue lists them, and their summed commission.</summary>
/// <param name="ClientOrderIds">
/// The client id of each order the fills belong to, when they are several orders' (a close the venue made, read back by
/// reconciliation): each fill is recorded under its own order's id. Null: all are the one order's.
/// </param>
public sealed record OrderFills(decimal Fee, IReadOnlyList<UserTrade> Trades, IReadOnlyDictionary<long, string>? ClientOrderIds = null);
