using TradeEngine.Domain;

namespace TradeEngine.Risk.Mapping;

/// <summary>
/// One open position as Risk needs it: signed size (long positive), entry and mark price; <see cref="IsolatedWallet"/> is
/// an isolated position's own margin (what the venue liquidates it against), null for a cross position or when not sent.
/// </summary>
public readonly record struct PositionView(
    Symbol Symbol,
    decimal SignedSize,
    decimal EntryPrice,
    decimal MarkPrice,
    int Leverage,
    MarginType? MarginType,
    decimal UnrealizedPnl,
    decimal? IsolatedWallet = null);

/// <summary>
/// The account at one instant, in USDT, whatever it came from (a caller's snapshot, Execution's GetAccount).
/// Equity is wallet balance + unrealized PnL.
/// </summary>
public sealed record AccountView(
    decimal WalletBalance,
    decimal AvailableBalance,
    decimal UnrealizedPnl,
    decimal Equity,
    decimal MaintenanceMargin,
    IReadOnlyList<PositionView> Positions)
{
    /// <summary>Signed size held on <paramref name="symbol"/>; 0 when flat.</summary>
    public decimal SizeOn(Symbol symbol)
    {
        var size = 0m;
        foreach (var p in Positions)
        {
            if (p.Symbol == symbol)
            {
                size += p.SignedSize;
            }
        }

        return size;
    }

    /// <summary>The mark price of the position on <paramref name="symbol"/>; null when flat.</summary>
    public decimal? MarkOn(Symbol symbol)
    {
        foreach (var p in Positions)
        {
            if (p.Symbol == symbol)
            {
                return p.MarkPrice;
            }
        }

        return null;
    }
}
