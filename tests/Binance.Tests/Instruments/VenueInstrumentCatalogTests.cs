using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Instruments;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.Testing;

namespace TradeEngine.Binance.Tests.Instruments;

/// <summary>The venue instrument catalog over the simulator: Domain instruments from exchangeInfo, brackets and fundingInfo.</summary>
public class VenueInstrumentCatalogTests : PaperTest
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task GetAsync_FourHourSimulatorSymbol_InstrumentFromTheVenue()
    {
        var catalog = Catalog();

        var sol = await catalog.GetAsync(new Symbol("SOLUSDT"));

        Assert.Equal((1m, 1m, 5m), (sol.Filters.StepSize, sol.Filters.MinQty, sol.Filters.MinNotional));
        Assert.Equal(50, sol.MaxLeverage);
        Assert.Equal(0.01m, sol.Brackets[0].MaintMarginRatio);
        Assert.Equal(4, sol.Funding.IntervalHours);
        Assert.Equal((0.02m, -0.02m), (sol.FundingRateCap, sol.FundingRateFloor));
        Assert.Equal("SOL", sol.BaseAsset);
        var snapshot = await catalog.GetSnapshotAsync();
        Assert.Equal(8, snapshot.Instruments.Count);
        Assert.Equal(1, (await catalog.GetAsync(new Symbol("LINKUSDT"))).Funding.IntervalHours);
    }

    [Fact]
    public async Task GetAsync_SymbolTheVenueIsSettling_InstrumentCarriesItsStatus()
    {
        await Paper.SetStatusAsync("ETHUSDT", "SETTLING");
        var catalog = Catalog();

        var eth = await catalog.GetAsync(new Symbol("ETHUSDT"));
        var btc = await catalog.GetAsync(new Symbol("BTCUSDT"));

        Assert.Equal(("SETTLING", false), (eth.Status, eth.IsTrading));
        Assert.Equal(("TRADING", true), (btc.Status, btc.IsTrading));
    }

    /// <summary>
    /// Binance lists USDC-margined perpetuals and delivery contracts beside the USDT perpetuals: the catalog keeps what the
    /// venue says of each (a position on one can still be closed), and the instrument says why none is opened here. Before,
    /// neither was read, and a USDC-margined symbol was taken for a USDT one.
    /// </summary>
    [Theory]
    [InlineData("USDC", "PERPETUAL", "it is margined in USDC; only USDT-margined perpetuals are opened here")]
    [InlineData("USDT", "CURRENT_QUARTER", "it is a CURRENT_QUARTER contract; only USDT-margined perpetuals are opened here")]
    [InlineData("", "PERPETUAL", "the venue does not state its margin asset")]
    [InlineData("USDT", "", "the venue does not state its contract type")]
    public async Task GetAsync_AContractNotAUsdtPerpetual_SaysWhyItIsNotOpened(string marginAsset, string contractType, string reason)
    {
        var venue = TradeEngine.Testing.Venue.VenueProxy.Wrap(Paper.CreateClient(),
            TradeEngine.Testing.Venue.VenueProxy.ListingAs("ETHUSDT", marginAsset, contractType));
        var catalog = new VenueInstrumentCatalog(venue, Options.Create(new BinanceOptions { InstrumentCatalogTtl = Ttl }), _time);

        var eth = await catalog.GetAsync(new Symbol("ETHUSDT"));
        var btc = await catalog.GetAsync(new Symbol("BTCUSDT"));

        Assert.Equal((marginAsset, contractType), (eth.MarginAsset, eth.ContractType));
        Assert.Contains(reason, eth.NotOpenedReason, StringComparison.Ordinal);
        Assert.Equal(("USDT", "PERPETUAL", null), (btc.MarginAsset, btc.ContractType, btc.NotOpenedReason));
    }

    [Fact]
    public async Task GetAsync_UnknownSymbol_RefusedNamingSymbol_TryGetNull()
    {
        var catalog = Catalog();

        var refused = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => catalog.GetAsync(new Symbol("NOSUCHUSDT")).AsTask());

        Assert.Equal((BinanceErrorKind.InvalidSymbol, "symbol"), (refused.Kind, refused.Field));
        Assert.Contains("unknown symbol", refused.Reason, StringComparison.Ordinal);
        Assert.Null(await catalog.TryGetAsync(new Symbol("NOSUCHUSDT")));
    }

    [Fact]
    public async Task GetAsync_ManyConcurrentCallersCold_OneVenueReadOfEach()
    {
        var catalog = Catalog();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => catalog.GetAsync(new Symbol(i % 2 == 0 ? "BTCUSDT" : "ETHUSDT")).AsTask()));

        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/exchangeInfo"));
        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/leverageBracket"));
        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/fundingInfo"));
    }

    [Fact]
    public async Task GetAsync_AfterTtl_ServesTheCachedSnapshotAndRefreshesOnceInTheBackground()
    {
        // The background refresh's exchangeInfo read is held until the stale callers have been answered: on a loaded
        // machine an unheld refresh could land between two of them, and a caller would then (rightly) see the new figure.
        var refreshGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exchangeInfoReads = 0;
        var venue = TradeEngine.Testing.Venue.VenueProxy.Wrap(Paper.CreateClient(), (method, _, call) =>
            method.Name == "GetExchangeInfoAsync" && Interlocked.Increment(ref exchangeInfoReads) > 1 ? HeldAsync(call) : call());
        var catalog = new VenueInstrumentCatalog(venue, Options.Create(new BinanceOptions { InstrumentCatalogTtl = Ttl }), _time);
        var symbol = new Symbol("ETHUSDT");
        await catalog.GetAsync(symbol);
        await Paper.SetFundingInfoAsync("ETHUSDT", intervalHours: 4);

        var withinTtl = await catalog.GetAsync(symbol);
        _time.Advance(Ttl);
        var stale = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => catalog.GetAsync(symbol).AsTask()));
        refreshGate.SetResult();
        var fresh = await Poll.UntilAsync(
            async () => await catalog.GetAsync(symbol), i => i.Funding.IntervalHours == 4, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        Assert.Equal(8, withinTtl.Funding.IntervalHours);
        Assert.All(stale, i => Assert.Equal(8, i.Funding.IntervalHours));
        Assert.Equal(4, fresh.Funding.IntervalHours);
        Assert.Equal(2, Volatile.Read(ref exchangeInfoReads));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/exchangeInfo"));

        async Task<TradeEngine.Binance.Models.ExchangeInfo> HeldAsync(Func<object?> call)
        {
            // At most 10 s: a catalog that made its stale callers wait for the refresh fails the test, not hangs it.
            await Task.WhenAny(refreshGate.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            return await (Task<TradeEngine.Binance.Models.ExchangeInfo>)call()!;
        }
    }

    [Fact]
    public async Task Loads_ReadAtTheirOwnPriority_ABackgroundRefreshAsBackgroundWorkWhoeverTriggeredIt()
    {
        var seen = new List<(string Method, VenuePriority Priority)>();
        var venue = TradeEngine.Testing.Venue.VenueProxy.Wrap(Paper.CreateClient(), (method, _, call) =>
        {
            lock (seen)
            {
                seen.Add((method.Name, VenueRequestPriority.Current));
            }

            return call();
        });
        var catalog = new VenueInstrumentCatalog(venue, Options.Create(new BinanceOptions { InstrumentCatalogTtl = Ttl }), _time);
        int Count()
        {
            lock (seen)
            {
                return seen.Count;
            }
        }

        List<(string, VenuePriority)> Taken()
        {
            lock (seen)
            {
                var taken = seen.ToList();
                seen.Clear();
                return taken;
            }
        }

        // The first read is waited on: at the priority of the caller who needs it (urgent here).
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            await catalog.GetSnapshotAsync();
        }

        Assert.Equal(3, Taken().Count(c => c.Item2 == VenuePriority.Urgent));

        // A stale snapshot is served and refreshed behind it: background work, though an urgent caller found it stale.
        _time.Advance(Ttl);
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            await catalog.GetSnapshotAsync();
        }

        await Poll.UntilAsync(() => Task.FromResult(Count()), n => n == 3, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        Assert.All(Taken(), c => Assert.Equal(VenuePriority.Background, c.Item2));
        // Until it has finished: an asked-for refresh would join it.
        await Poll.UntilAsync(() => catalog.GetSnapshotAsync().AsTask(), s => s.LoadedAt >= _time.GetUtcNow(), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));

        // A refresh asked for is waited on: at least normal, though a background caller asked.
        using (VenueRequestPriority.Enter(VenuePriority.Background))
        {
            await catalog.RefreshAsync();
        }

        var asked = Taken();
        Assert.Equal(3, asked.Count);
        Assert.All(asked, c => Assert.Equal(VenuePriority.Normal, c.Item2));
    }

    [Fact]
    public async Task RefreshAsync_VenueFails_KeepsTheLastSnapshot()
    {
        var catalog = Catalog();
        var before = await catalog.GetSnapshotAsync();
        await Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v1/exchangeInfo", count: 10);

        var after = await catalog.RefreshAsync();

        Assert.Same(before, after);
        Assert.NotNull(await catalog.TryGetAsync(new Symbol("BTCUSDT")));
    }

    [Fact]
    public async Task GetAsync_NoCredentials_RefusedAsConfiguration()
    {
        var catalog = new VenueInstrumentCatalog(Paper.CreateClient(o => (o.ApiKey, o.ApiSecret) = (null, null)), Options.Create(new BinanceOptions()), _time);

        var refused = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => catalog.GetAsync(new Symbol("BTCUSDT")).AsTask());

        Assert.Equal(BinanceErrorKind.InvalidApiKey, refused.Kind);
    }

    private VenueInstrumentCatalog Catalog() =>
        new(Paper.CreateClient(), Options.Create(new BinanceOptions { InstrumentCatalogTtl = Ttl }), _time);
}
