using TradeEngine.Common.V1;
using TradeEngine.Execution.V1;
using TradeEngine.Risk.Instruments;
using TradeEngine.Risk.Mapping;

namespace TradeEngine.Risk.Monitor;

/// <summary>The account as Execution reports it (service "execution", from <c>services__execution__http__0</c>).</summary>
public sealed class ExecutionAccountSource(ExecutionService.ExecutionServiceClient execution, RiskInstruments instruments) : IAccountSource
{
    public async Task<AccountView> GetAccountAsync(CancellationToken cancellationToken)
    {
        var account = await execution.GetAccountAsync(new GetAccountRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
        var snapshot = new AccountSnapshot
        {
            WalletBalance = account.WalletBalance,
            AvailableBalance = account.AvailableBalance,
            UnrealizedPnl = account.UnrealizedPnl,
            Equity = account.Equity,
            MaintenanceMargin = account.MaintenanceMargin,
        };
        foreach (var p in account.Positions)
        {
            snapshot.Positions.Add(new PositionSnapshot
            {
                Symbol = p.Symbol,
                Side = p.Side,
                Quantity = p.Quantity,
                EntryPrice = p.EntryPrice,
                MarkPrice = p.MarkPrice,
                Leverage = p.Leverage,
                MarginType = p.MarginType,
                UnrealizedPnl = p.UnrealizedPnl,
                LiquidationPrice = p.LiquidationPrice,
                IsolatedWallet = p.IsolatedWallet,
            });
        }

        return await instruments.AccountAsync(snapshot, "execution.account", cancellationToken).ConfigureAwait(false);
    }
}
