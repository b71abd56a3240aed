using TradeEngine.Binance;
using TradeEngine.Domain;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>
/// The account as the venue reports it, read from PaperExchange through the real Binance client (/fapi/v3/account and
/// /fapi/v2/positionRisk): the path Execution's GetAccount takes. Used by the margin monitor tests until an end-to-end
/// test with Execution exists.
/// </summary>
public sealed class VenueAccountSource(IBinanceClient venue) : IAccountSource, IReadCounting
{
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public async Task<AccountView> GetAccountAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var account = await venue.GetAccountAsync(cancellationToken);
        var risks = await venue.GetPositionsAsync(null, cancellationToken);
        var positions = risks.Where(p => p.PositionAmt != 0m).Select(p => new PositionView(
            new Symbol(p.Symbol), p.PositionAmt, p.EntryPrice, p.MarkPrice, p.Leverage, p.MarginType, p.UnrealizedProfit,
            p.MarginType == MarginType.Isolated ? p.IsolatedWallet : null)).ToList();
        return new AccountView(
            account.TotalWalletBalance,
            account.AvailableBalance,
            account.TotalUnrealizedProfit,
            account.TotalMarginBalance,
            account.TotalMaintMargin,
            positions);
    }
}
