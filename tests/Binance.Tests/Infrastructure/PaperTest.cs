namespace TradeEngine.Binance.Tests.Infrastructure;

/// <summary>A fresh simulator per test (xunit makes one instance per test) and a client on it.</summary>
public abstract class PaperTest : IAsyncLifetime
{
    private BinanceClient? _client;

    protected PaperExchangeHost Paper { get; private set; } = null!;

    protected BinanceClient Client => _client ??= Paper.CreateClient();

    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => Paper = await PaperExchangeHost.StartAsync(Settings);

    public async Task DisposeAsync() => await Paper.DisposeAsync();
}
