using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>
/// An account whose figures the test sets. Used only where the venue cannot show the state: an account at its
/// maintenance margin, which PaperExchange (like Binance) liquidates the instant it gets there.
/// </summary>
public sealed class ScriptedAccountSource(AccountView initial) : IAccountSource
{
    public AccountView Account { get; set; } = initial;

    public Task<AccountView> GetAccountAsync(CancellationToken cancellationToken) => Task.FromResult(Account);
}
