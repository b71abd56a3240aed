using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>An account the test sets, read as it stands at each tick: figures no simulator reaches (past an isolated liquidation).</summary>
public sealed class SetAccountSource(AccountView account) : IAccountSource, IReadCounting
{
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    private volatile AccountView _account = account;

    public AccountView Account
    {
        get => _account;
        set => _account = value;
    }

    public Task<AccountView> GetAccountAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return Task.FromResult(_account);
    }
}
