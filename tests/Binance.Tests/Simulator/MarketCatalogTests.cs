using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>The simulator's eight markets as the client reads them (the alts are simulator configuration).</summary>
public class MarketCatalogTests : PaperTest
{
    [Theory]
    [InlineData("BNBUSDT")]
    [InlineData("XRPUSDT")]
    [InlineData("DOGEUSDT")]
    [InlineData("ADAUSDT")]
    [InlineData("LINKUSDT")]
    [InlineData("SOLUSDT")]
    public async Task ExchangeInfo_Alt_MinNotionalFiveAndBracketsContinuous(string symbol)
    {
        var info = (await Client.GetExchangeInfoAsync()).Find(symbol);
        var brackets = (await Client.GetLeverageBracketsAsync(symbol)).Single();
        var price = (await Client.GetTickerPriceAsync(symbol)).Price;

        Assert.NotNull(info);
        Assert.Equal(5m, info.Filters.MinNotional);
        Assert.True(info.Filters.ValidatePrice(price).IsValid, $"{symbol} starts at {price}, off its tick {info.Filters.TickSize}");
        Assert.InRange(price, info.MinPrice, info.MaxPrice);
        // The client parsed every row into Domain's bracket type; Domain's table checks the continuity rule.
        var table = new TradeEngine.Domain.Instruments.BracketTable(new(symbol), new DateOnly(2026, 11, 25), "test", brackets.Brackets);
        Assert.InRange(table.MaxLeverage, 20, 125);
    }
}
