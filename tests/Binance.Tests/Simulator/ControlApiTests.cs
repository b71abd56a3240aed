using System.Net;
using System.Net.Http.Json;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.PaperExchange.Control;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>The control API's liquidation switch and funding-terms changes, seen through the venue surface.</summary>
public class ControlApiTests : PaperTest
{
    [Fact]
    public async Task Liquidation_Paused_PositionOutlivesItsLiquidationPriceUntilResumed()
    {
        await Client.ChangeMarginTypeAsync("BTCUSDT", TradeEngine.Domain.MarginType.Isolated);
        await Client.ChangeLeverageAsync("BTCUSDT", 20);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.100m), "lagging-venue");
        var liquidation = (await Client.GetPositionsAsync("BTCUSDT")).Single().LiquidationPrice;

        await Paper.SetLiquidationPausedAsync(true);
        await Paper.SetPathAsync("BTCUSDT", [59_000m, Math.Floor((liquidation - 100m) * 10m) / 10m]);

        Assert.Equal(0.100m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
        Assert.True((await Paper.StateAsync()).LiquidationPaused);

        await Paper.SetLiquidationPausedAsync(false);

        Assert.Equal(0m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
        Assert.False((await Paper.StateAsync()).LiquidationPaused);
        Assert.Equal(Math.Round(liquidation, 8), (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Last().Price);
    }

    [Fact]
    public async Task Reset_WhileLiquidationPaused_ResumesLiquidation()
    {
        await Paper.SetLiquidationPausedAsync(true);

        await Paper.ResetAsync();

        Assert.False((await Paper.StateAsync()).LiquidationPaused);
    }

    [Fact]
    public async Task FundingInfo_IntervalCapAndFloorChanged_ShownByFundingInfoAndPremiumIndex()
    {
        await Paper.SetFundingInfoAsync("ETHUSDT", intervalHours: 4, cap: 0.01m, floor: -0.0075m);

        var eth = (await Client.GetFundingInfoAsync()).Single(i => i.Symbol == "ETHUSDT");
        Assert.Equal((4, 0.01m, -0.0075m), (eth.FundingIntervalHours, eth.AdjustedFundingRateCap, eth.AdjustedFundingRateFloor));
        var next = (await Client.GetPremiumIndexAsync("ETHUSDT")).NextFundingTime.UtcDateTime;
        Assert.Equal(0, next.Hour % 4);
        Assert.True(next - DateTime.UtcNow <= TimeSpan.FromHours(4));
        Assert.Equal(8, (await Client.GetFundingInfoAsync()).Single(i => i.Symbol == "BTCUSDT").FundingIntervalHours);
    }

    [Fact]
    public async Task FundingInfo_OnlyCapGiven_KeepsIntervalAndBoundsNewRates()
    {
        await Paper.SetFundingInfoAsync("SOLUSDT", cap: 0.001m);

        var sol = (await Client.GetFundingInfoAsync()).Single(i => i.Symbol == "SOLUSDT");
        Assert.Equal((4, 0.001m, -0.02m), (sol.FundingIntervalHours, sol.AdjustedFundingRateCap, sol.AdjustedFundingRateFloor));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Paper.SetFundingRateAsync("SOLUSDT", 0.002m));
    }

    /// <summary>A cap lowered under the current rate brings the published rate within it, as Binance's lastFundingRate is.</summary>
    [Fact]
    public async Task FundingInfo_CapLoweredUnderTheCurrentRate_PremiumIndexPublishesTheCappedRate()
    {
        await Paper.SetFundingRateAsync("ETHUSDT", 0.003m);

        await Paper.SetFundingInfoAsync("ETHUSDT", cap: 0.001m);

        Assert.Equal(0.001m, (await Client.GetPremiumIndexAsync("ETHUSDT")).LastFundingRate);
    }

    [Theory]
    [InlineData("ETHUSDT", 5, null)]
    [InlineData("ETHUSDT", null, "-0.01")]
    [InlineData("ETHUSDT", null, "1")]
    [InlineData("NOSUCHUSDT", 4, null)]
    public async Task FundingInfo_BadTerms_BadRequestAndNothingChanged(string symbol, int? interval, string? cap)
    {
        using var response = await Paper.Http.PostAsJsonAsync("paper/v1/funding-info",
            new SetFundingInfoRequest(symbol, interval, cap is null ? null : decimal.Parse(cap, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(8, (await Client.GetFundingInfoAsync()).Single(i => i.Symbol == "ETHUSDT").FundingIntervalHours);
    }

    /// <summary>A configured funding rate outside the symbol's cap and floor stops the start, naming the setting.</summary>
    [Fact]
    public async Task Start_ConfiguredFundingRateOutsideTheCap_RefusedNamingTheSetting()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
            await (await PaperExchangeHost.StartAsync(new Dictionary<string, string?> { ["Paper:Markets:BTCUSDT:FundingRate"] = "1.5" })).DisposeAsync());

        Assert.Contains("Paper:Markets:BTCUSDT:FundingRate", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlApi_Disabled_LiquidationAndFundingInfoNotMapped()
    {
        await using var paper = await PaperExchangeHost.StartAsync(new Dictionary<string, string?> { ["Paper:EnableControlApi"] = "false" });

        using var liquidation = await paper.Http.PostAsJsonAsync("paper/v1/liquidation", new SetLiquidationRequest(true));
        using var funding = await paper.Http.PostAsJsonAsync("paper/v1/funding-info", new SetFundingInfoRequest("BTCUSDT", 4));

        Assert.Equal(HttpStatusCode.NotFound, liquidation.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, funding.StatusCode);
    }
}
