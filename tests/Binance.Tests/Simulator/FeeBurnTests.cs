using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// The BNB fee discount as Binance USD-M documents it: "Toggle BNB Burn On Futures Trade" (POST /fapi/v1/feeBurn, feeBurn
/// "true" or "false", weight 1, answers code 200 "success") and "Get BNB Burn Status" (GET /fapi/v1/feeBurn, weight 30,
/// <c>{"feeBurn": true}</c>). On, a fill's commission is charged in BNB, 10 % off, while the futures wallet holds enough
/// BNB: userTrades names BNB as its commissionAsset, the COMMISSION income is in BNB, and the USDT wallet pays nothing.
/// BTCUSDT at 60,000 and BNBUSDT at 600 (no volatility): 0.010 BTC is 600 USDT, a 0.3 USDT taker fee, 0.00045 BNB.
/// </summary>
public class FeeBurnTests : PaperTest
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Paper:Markets:BNBUSDT:InitialPrice"] = "600",
        ["Paper:StartingBnbBalance"] = "1",
    };

    [Fact]
    public async Task FeeBurn_OffByDefault_CommissionInUsdt()
    {
        var (status, burn) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/feeBurn", "");
        Assert.Equal(200, status);
        Assert.False(burn.GetProperty("feeBurn").GetBoolean());

        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "usdt-fee");

        var trade = Assert.Single(await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT")));
        Assert.Equal((0.3m, "USDT"), (trade.Commission, trade.CommissionAsset));
        var account = await Client.GetAccountAsync();
        Assert.Equal(10_000m - 0.3m, account.TotalWalletBalance);
        Assert.Equal(1m, account.Assets.Single(a => a.Asset == "BNB").Balance);
    }

    [Fact]
    public async Task FeeBurn_OnWithBnb_CommissionInBnbTenPercentOffAndTheUsdtWalletUntouched()
    {
        var (set, answer) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/feeBurn", "feeBurn=true");
        Assert.Equal(200, set);
        Assert.Equal((200, "success"), (answer.GetProperty("code").GetInt32(), answer.GetProperty("msg").GetString()));
        var (_, burn) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/feeBurn", "");
        Assert.True(burn.GetProperty("feeBurn").GetBoolean());

        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "bnb-fee");

        var trade = Assert.Single(await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT")));
        Assert.Equal((0.00045m, "BNB"), (trade.Commission, trade.CommissionAsset));
        var (_, raw) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/userTrades", "symbol=BTCUSDT");
        Assert.Equal(("0.00045000", "BNB"), (raw[0].GetProperty("commission").GetString(), raw[0].GetProperty("commissionAsset").GetString()));
        var account = await Client.GetAccountAsync();
        Assert.Equal(10_000m, account.TotalWalletBalance);
        Assert.Equal(0.99955m, account.Assets.Single(a => a.Asset == "BNB").Balance);
        Assert.Equal(0.99955m, (await Client.GetBalancesAsync()).Single(b => b.Asset == "BNB").Balance);
        var commission = Assert.Single(await Client.GetIncomeHistoryAsync(new IncomeQuery("BTCUSDT", IncomeType.Commission)));
        Assert.Equal((-0.00045m, "BNB"), (commission.Income, commission.Asset));
        // The control API's summary shows the operator the same.
        var state = await Paper.StateAsync();
        Assert.Equal((true, 0.99955m, 10_000m), (state.FeeBurn, state.BnbWalletBalance, state.CrossWalletBalance));
    }

    [Fact]
    public async Task FeeBurn_OnWithTooLittleBnb_CommissionInUsdt()
    {
        await using var paper = await PaperExchangeHost.StartAsync(new Dictionary<string, string?>
        {
            ["Paper:Markets:BNBUSDT:InitialPrice"] = "600",
            ["Paper:StartingBnbBalance"] = "0.0004", // less than the 0.00045 the fill costs
            ["Paper:FeeBurn"] = "true",
        });
        var client = paper.CreateClient();

        await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "short-of-bnb");

        var trade = Assert.Single(await client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT")));
        Assert.Equal((0.3m, "USDT"), (trade.Commission, trade.CommissionAsset));
        var account = await client.GetAccountAsync();
        Assert.Equal(10_000m - 0.3m, account.TotalWalletBalance);
        Assert.Equal(0.0004m, account.Assets.Single(a => a.Asset == "BNB").Balance);
    }

    [Theory]
    [InlineData("feeBurn=TRUE", -1130)]
    [InlineData("feeBurn=1", -1130)]
    [InlineData("", -1102)]
    public async Task FeeBurn_ValueNotTrueOrFalse_RefusedAndUnchanged(string query, int code)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/feeBurn", query);

        Assert.Equal(400, status);
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        var (_, burn) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/feeBurn", "");
        Assert.False(burn.GetProperty("feeBurn").GetBoolean());
    }
}
