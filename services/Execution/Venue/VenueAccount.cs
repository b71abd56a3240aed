using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Mapping;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Venue;

/// <summary>The account at one instant as the venue reports it: USDT totals and every symbol's position risk.</summary>
public sealed record VenueAccount(AccountInfo Account, IReadOnlyList<PositionRisk> Symbols)
{
    /// <summary>Symbols with a non-zero position.</summary>
    public IEnumerable<PositionRisk> Open => Symbols.Where(p => p.PositionAmt != 0m);

    /// <summary>
    /// Open positions on names that are symbols here: a delivery contract held by hand (BTCUSDT_260327, its date after an
    /// underscore) is left out of what Risk is sent, which refuses such a name and would refuse every check and margin
    /// read while it is held. Its margin and PnL stay in the account's totals.
    /// </summary>
    public IEnumerable<PositionRisk> OpenListed => Open.Where(IsListed);

    /// <summary>The open positions <see cref="OpenListed"/> leaves out.</summary>
    public IEnumerable<PositionRisk> OpenUnlisted => Open.Where(p => !IsListed(p));

    private static bool IsListed(PositionRisk p) => Domain.Symbol.TryParse(p.Symbol, out _);

    public PositionRisk? Find(string symbol) => Symbols.FirstOrDefault(p => string.Equals(p.Symbol, symbol, StringComparison.Ordinal));

    public PositionRisk? FindOpen(string symbol) => Open.FirstOrDefault(p => string.Equals(p.Symbol, symbol, StringComparison.Ordinal));

    public decimal MaintenanceMargin => Account.TotalMaintMargin;

    public static async Task<VenueAccount> ReadAsync(IBinanceClient venue, CancellationToken cancellationToken)
    {
        var account = venue.GetAccountAsync(cancellationToken);
        var positions = venue.GetPositionsAsync(null, cancellationToken);
        return new VenueAccount(await account.ConfigureAwait(false), await positions.ConfigureAwait(false));
    }

    /// <summary>The snapshot Risk judges an order against.</summary>
    public AccountSnapshot ToSnapshot()
    {
        var snapshot = new AccountSnapshot
        {
            WalletBalance = Wire.Format(Account.TotalWalletBalance),
            AvailableBalance = Wire.Format(Account.AvailableBalance),
            UnrealizedPnl = Wire.Format(Account.TotalUnrealizedProfit),
            Equity = Wire.Format(Account.TotalWalletBalance + Account.TotalUnrealizedProfit),
            MaintenanceMargin = Wire.Format(Account.TotalMaintMargin),
        };
        foreach (var p in OpenListed)
        {
            snapshot.Positions.Add(ToSnapshot(p));
        }

        return snapshot;
    }

    public static PositionSnapshot ToSnapshot(PositionRisk p) => new()
    {
        Symbol = p.Symbol,
        Side = ExecutionWire.SideOfSize(p.PositionAmt),
        Quantity = Wire.Format(Math.Abs(p.PositionAmt)),
        EntryPrice = Wire.Format(p.EntryPrice),
        MarkPrice = Wire.Format(p.MarkPrice),
        Leverage = p.Leverage,
        MarginType = ExecutionWire.MarginType(p.MarginType),
        UnrealizedPnl = Wire.Format(p.UnrealizedProfit),
        IsolatedWallet = Wire.Format(p.MarginType == Domain.MarginType.Isolated ? p.IsolatedWallet : 0m),
        LiquidationPrice = Wire.Format(p.LiquidationPrice),
    };
}
