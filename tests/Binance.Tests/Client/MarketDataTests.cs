using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Tests.Client;

public class MarketDataTests : PaperTest
{
    [Fact]
    public async Task GetServerTimeAsync_AfterClockAdvance_ReturnsSimulatedTime()
    {
        var before = await Client.GetServerTimeAsync();
        await Paper.AdvanceAsync(TimeSpan.FromHours(2));
        var after = await Client.GetServerTimeAsync();
        Assert.InRange(after - before, TimeSpan.FromHours(2), TimeSpan.FromHours(2) + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task GetExchangeInfoAsync_Simulator_ParsesDomainFiltersAndRateLimits()
    {
        var info = await Client.GetExchangeInfoAsync();
        var btc = info.Find("BTCUSDT");
        Assert.NotNull(btc);
        Assert.Equal(InstrumentCatalog.BtcUsdt.Filters, btc.Filters);
        Assert.Contains(info.RateLimits, r => r is { Type: "REQUEST_WEIGHT", Limit: 2400 } && r.Window == TimeSpan.FromMinutes(1));
        Assert.Contains(info.RateLimits, r => r is { Type: "ORDERS", Limit: 300 } && r.Window == TimeSpan.FromSeconds(10));
        Assert.Equal(
            ["ADAUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LINKUSDT", "SOLUSDT", "XRPUSDT"],
            info.Symbols.Select(s => s.Symbol).Order());
    }

    [Fact]
    public async Task GetPremiumIndexAsync_AfterSetPrice_ReturnsMarkIndexAndOwnFundingTime()
    {
        await Paper.SetPriceAsync("SOLUSDT", 151.25m, markPrice: 151.30m);
        await Paper.SetFundingRateAsync("SOLUSDT", 0.00025m);
        var index = await Client.GetPremiumIndexAsync("SOLUSDT");
        Assert.Equal(151.30m, index.MarkPrice);
        Assert.Equal(151.25m, index.IndexPrice);
        Assert.Equal(0.00025m, index.LastFundingRate);
        Assert.Equal(0, index.NextFundingTime.UtcDateTime.Hour % 4);
        Assert.Equal(TimeSpan.Zero, index.NextFundingTime.UtcDateTime.TimeOfDay - TimeSpan.FromHours(index.NextFundingTime.UtcDateTime.Hour));
        var all = await Client.GetPremiumIndexesAsync();
        Assert.Equal(8, all.Count);
    }

    [Fact]
    public async Task GetFundingInfoAsync_Simulator_ListsSolAtFourHoursAndBtcAtEight()
    {
        var info = await Client.GetFundingInfoAsync();
        Assert.Equal(4, info.Single(i => i.Symbol == "SOLUSDT").FundingIntervalHours);
        Assert.Equal(8, info.Single(i => i.Symbol == "BTCUSDT").FundingIntervalHours);
        Assert.Equal(4, info.Single(i => i.Symbol == "DOGEUSDT").FundingIntervalHours);
        Assert.Equal(1, info.Single(i => i.Symbol == "LINKUSDT").FundingIntervalHours);
        Assert.True(info.All(i => i.AdjustedFundingRateCap > 0m && i.AdjustedFundingRateFloor < 0m));
    }

    [Fact]
    public async Task GetTickerPriceAsync_AfterSetPrice_ReturnsThatPrice()
    {
        await Paper.SetPriceAsync("ETHUSDT", 3123.45m);
        var ticker = await Client.GetTickerPriceAsync("ETHUSDT");
        Assert.Equal(3123.45m, ticker.Price);
    }

    [Fact]
    public async Task GetFundingRateHistoryPagedAsync_OneDay_ReturnsEachSettlementOnceInOrder()
    {
        var start = await Client.GetServerTimeAsync();
        await Paper.AdvanceAsync(TimeSpan.FromDays(1));
        var btc = await Client.GetFundingRateHistoryPagedAsync("BTCUSDT", start, start.AddDays(2)).ToListAsync();
        var sol = await Client.GetFundingRateHistoryPagedAsync("SOLUSDT", start, start.AddDays(2)).ToListAsync();
        Assert.Equal(3, btc.Count);
        Assert.Equal(6, sol.Count);
        Assert.All(btc, e => Assert.Equal(0, e.FundingTime.UtcDateTime.Hour % 8));
        Assert.Equal(btc.OrderBy(e => e.FundingTime), btc);
        Assert.All(btc, e => Assert.Equal(60000m, e.MarkPrice));
    }

    [Fact]
    public async Task GetLeverageBracketsAsync_Btc_MatchesDomainTable()
    {
        var brackets = (await Client.GetLeverageBracketsAsync("BTCUSDT")).Single();
        Assert.Equal(BracketTables.For(new Symbol("BTCUSDT")).Brackets.ToArray(), brackets.Brackets);
        Assert.Equal(125, brackets.MaxLeverage);
        var all = await Client.GetLeverageBracketsAsync();
        Assert.Equal(8, all.Count);
    }
}
