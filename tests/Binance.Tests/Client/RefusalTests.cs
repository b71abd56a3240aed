using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>Bad input is refused by the client before anything is sent: the simulator never sees the request.</summary>
public class RefusalTests : PaperTest
{
    [Theory]
    [InlineData("BTCUSDT", "0.0105", null, BinanceErrorKind.QuantityOffStep)]
    [InlineData("BTCUSDT", "0.010", "60000.05", BinanceErrorKind.PriceOffTick)]
    [InlineData("BTCUSDT", "0.010", "10000000", BinanceErrorKind.InvalidParameter)]
    [InlineData("BTCUSDT", "0.001", "60000", BinanceErrorKind.MinNotional)]
    [InlineData("BTCUSDT", "5000", null, BinanceErrorKind.QuantityTooLarge)]
    [InlineData("SOLUSDT", "0.5", null, BinanceErrorKind.QuantityOffStep)]
    [InlineData("NOSUCHUSDT", "1", null, BinanceErrorKind.InvalidSymbol)]
    public async Task PlaceOrderAsync_OffTheSymbolFilters_IsRefusedBeforeSending(string symbol, string qty, string? price, BinanceErrorKind kind)
    {
        var limit = price is null ? (decimal?)null : decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture);
        var order = new NewOrder(symbol, OrderSide.Buy, limit is null ? OrderType.Market : OrderType.Limit,
            decimal.Parse(qty, System.Globalization.CultureInfo.InvariantCulture), limit, limit is null ? null : TimeInForce.Gtc);
        var e = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => Client.PlaceOrderAsync(order, "refused"));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(0, await Paper.RequestCountAsync("POST /fapi/v1/order"));
    }

    [Fact]
    public async Task ChangeLeverageAsync_AboveTopBracket_IsRefusedBeforeSending()
    {
        var e = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => Client.ChangeLeverageAsync("ETHUSDT", 101));
        Assert.Equal((BinanceErrorKind.InvalidLeverage, "leverage"), (e.Kind, e.Field));
        Assert.Equal(0, await Paper.RequestCountAsync("POST /fapi/v1/leverage"));
    }

    [Fact]
    public async Task SignedCall_WithoutKey_IsRefusedAndNothingIsSent()
    {
        var client = Paper.CreateClient(o => { o.ApiKey = null; o.ApiSecret = null; });
        var e = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => client.GetAccountAsync());
        Assert.Equal(BinanceErrorKind.InvalidApiKey, e.Kind);
        Assert.Empty(await Paper.RequestCountsAsync());
    }

    [Fact]
    public async Task SignedCall_WrongSecret_IsRejectedByTheSimulatorWith1022()
    {
        var client = Paper.CreateClient(o => o.ApiSecret = "not-the-secret");
        var e = await Assert.ThrowsAsync<BinanceApiException>(() => client.GetBalancesAsync());
        Assert.Equal((-1022, BinanceErrorKind.InvalidSignature), (e.Code, e.Kind));
        Assert.DoesNotContain("not-the-secret", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetPremiumIndexAsync_SymbolWithIllegalCharacters_IsRefused()
    {
        await Assert.ThrowsAsync<BinanceRequestRefusedException>(() => Client.GetPremiumIndexAsync("BTC&USDT"));
        Assert.Empty(await Paper.RequestCountsAsync());
    }
}
