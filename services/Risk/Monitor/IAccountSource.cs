using TradeEngine.Risk.Mapping;

namespace TradeEngine.Risk.Monitor;

/// <summary>Where the margin monitor reads the account and its positions (Execution's GetAccount in production).</summary>
public interface IAccountSource
{
    Task<AccountView> GetAccountAsync(CancellationToken cancellationToken);
}
