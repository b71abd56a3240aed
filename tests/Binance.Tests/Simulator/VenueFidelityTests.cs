using System.Net;
using System.Text.Json;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// The simulator behaves as Binance USD-M documents, not stricter: client order ids ("a unique id among open orders",
/// New Order (TRADE), developers.binance.com), order-count limits (-1015), the 503 body of -1001, and a venue that
/// executes after the client has gone.
/// </summary>
public class VenueFidelityTests : PaperTest
{
    private const string Market = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=";
    private const string RestingLimit = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=50000&newClientOrderId=";

    [Fact]
    public async Task NewOrder_IdOfAFilledOrder_IsAcceptedAgainAndTheQueryFindsTheNewest()
    {
        var (first, a) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "reused");
        var (second, b) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "reused");
        Assert.Equal((200, 200), (first, second));
        Assert.NotEqual(a.GetProperty("orderId").GetInt64(), b.GetProperty("orderId").GetInt64());
        Assert.Equal(2, (await Paper.OrdersAsync("reused")).Count);
        var (_, found) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=reused");
        Assert.Equal(b.GetProperty("orderId").GetInt64(), found.GetProperty("orderId").GetInt64());
    }

    /// <summary>
    /// The same rule for the order a stop triggers under its clientAlgoId: an earlier filled order with that id does not
    /// shadow it; the query by id answers the newest (before, the trigger's order did not replace the old one in the
    /// look-up by id, so the query answered the earlier fill).
    /// </summary>
    [Fact]
    public async Task TriggeredStop_UnderTheIdOfAnEarlierFilledOrder_TheQueryFindsTheTriggeredOrder()
    {
        var (opened, first) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "reused-by-stop");
        Assert.Equal(200, opened);
        var (placed, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=55000&closePosition=true&workingType=MARK_PRICE&clientAlgoId=reused-by-stop");
        Assert.Equal(200, placed);

        await Paper.SetPriceAsync("BTCUSDT", 54000m);
        await Poll.UntilAsync(() => Paper.OrdersAsync("reused-by-stop"), orders => orders.Count == 2, TimeSpan.FromSeconds(10));

        var (_, found) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=reused-by-stop");
        Assert.NotEqual(first.GetProperty("orderId").GetInt64(), found.GetProperty("orderId").GetInt64());
        Assert.Equal(("SELL", "FILLED", "STOP_MARKET"),
            (found.GetProperty("side").GetString(), found.GetProperty("status").GetString(), found.GetProperty("origType").GetString()));
    }

    /// <summary>
    /// The wallet is the sum of its income rows, to the last of their 8 places: a realized PnL is credited as the income
    /// row shows it (rounded to 8 places, half to even, as a commission is). Three closes of 0.002 against an entry of
    /// 60,004.666… each realize 0.0126666…, shown as 0.01266667; before, the wallet took the unrounded figures, and
    /// after the three it stood 0.00000001 below the sum of its rows.
    /// </summary>
    [Fact]
    public async Task RealizedPnl_AfterAnAddAtAnotherPrice_TheWalletIsTheSumOfItsIncomeRows()
    {
        await Paper.SetPriceAsync("BTCUSDT", 60000m);
        await Client.PlaceOrderAsync(new Binance.Models.NewOrder("BTCUSDT", Binance.Models.OrderSide.Buy, Binance.Models.OrderType.Market, 0.002m), "entry");
        await Paper.SetPriceAsync("BTCUSDT", 60007m);
        await Client.PlaceOrderAsync(new Binance.Models.NewOrder("BTCUSDT", Binance.Models.OrderSide.Buy, Binance.Models.OrderType.Market, 0.004m), "add");
        await Paper.SetPriceAsync("BTCUSDT", 60011m);
        for (var i = 0; i < 3; i++)
        {
            await Client.PlaceOrderAsync(
                new Binance.Models.NewOrder("BTCUSDT", Binance.Models.OrderSide.Sell, Binance.Models.OrderType.Market, 0.002m, ReduceOnly: true), "close-" + i);
        }

        var income = await Client.GetIncomeHistoryAsync(new Binance.Models.IncomeQuery("BTCUSDT"));
        var realized = income.Where(r => r.IncomeType == Binance.Models.IncomeType.RealizedPnl).Select(r => r.Income).ToList();
        Assert.Equal([0.01266667m, 0.01266667m, 0.01266667m], realized);
        var account = await Client.GetAccountAsync();
        Assert.Equal(10_000m + income.Sum(r => r.Income), account.TotalWalletBalance);
        Assert.Equal(10_000m + income.Sum(r => r.Income), (await Paper.StateAsync()).CrossWalletBalance);
    }

    [Theory]
    [InlineData("symbol=BTCUSDT&fromId=5000001&startTime=1700000000000", -1128)]
    [InlineData("symbol=BTCUSDT&fromId=5000001&endTime=1700000000000", -1128)]
    [InlineData("symbol=BTCUSDT&startTime=1700000000000&endTime=1700604800001", -1127)] // 7 days and 1 ms
    public async Task UserTrades_ParametersBinanceRefuses_RefusedWithItsCode(string query, int code)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/userTrades", query);

        Assert.Equal(400, status);
        Assert.Equal(code, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task NewOrder_IdOfAnOpenOrder_IsRefusedWithMinus4116()
    {
        var (first, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", RestingLimit + "open-id");
        var (second, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "open-id");
        Assert.Equal((200, 400), (first, second));
        Assert.Equal(-4116, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task NewOrder_SymbolNotTrading_OpeningRefusedWithMinus4140AndReduceOnlyStillFills()
    {
        var (opened, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "before-settling");
        await Paper.SetStatusAsync("BTCUSDT", "SETTLING");

        var (_, info) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/exchangeInfo", "");
        var (add, refused) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", Market + "add-while-settling");
        var (stop, stopRefused) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=BUY&type=STOP_MARKET&quantity=0.010&triggerPrice=90000");
        var (reduce, reduced) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&reduceOnly=true&newClientOrderId=out-while-settling");

        Assert.Equal(200, opened);
        Assert.Equal("SETTLING", info.GetProperty("symbols").EnumerateArray()
            .Single(s => s.GetProperty("symbol").GetString() == "BTCUSDT").GetProperty("status").GetString());
        Assert.Equal((400, -4140), (add, refused.GetProperty("code").GetInt32()));
        Assert.Equal((400, -4140), (stop, stopRefused.GetProperty("code").GetInt32()));
        Assert.Equal((200, "FILLED"), (reduce, reduced.GetProperty("status").GetString()));
        Assert.Single(await Paper.OrdersAsync("before-settling"));
        Assert.Empty(await Paper.OrdersAsync("add-while-settling"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Paper.SetStatusAsync("BTCUSDT", "HALTED"));
    }

    [Fact]
    public async Task NewOrder_IdOfACancelledOrder_IsAcceptedAgain()
    {
        await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", RestingLimit + "cancelled-id");
        await SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/allOpenOrders", "symbol=BTCUSDT");
        var (status, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", RestingLimit + "cancelled-id");
        Assert.Equal(200, status);
    }

    [Theory]
    [InlineData("fapi/v1/openOrders", "symbol=BTCUSDT", 1)]
    [InlineData("fapi/v1/openOrders", "", 40)]
    [InlineData("fapi/v1/openAlgoOrders", "symbol=BTCUSDT", 1)]
    [InlineData("fapi/v1/openAlgoOrders", "", 40)]
    [InlineData("fapi/v1/ticker/price", "symbol=BTCUSDT", 1)]
    [InlineData("fapi/v1/ticker/price", "", 2)]
    [InlineData("fapi/v2/positionRisk", "", 5)]
    [InlineData("fapi/v1/income", "", 30)]
    public async Task UsedWeight_EachEndpoint_RisesByItsDocumentedWeight(string path, string query, int weight)
    {
        var signed = !path.Contains("ticker", StringComparison.Ordinal);
        var (_, _, before) = await SignedHttp.SendWithHeadersAsync(Paper.Http, HttpMethod.Get, "fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=none");
        var (status, _, after) = await SignedHttp.SendWithHeadersAsync(Paper.Http, HttpMethod.Get, path, query, signed);

        Assert.Equal(200, status);
        // The look-up before costs 1; the serverTime reads made to sign cost 1 each (one per signed call).
        Assert.Equal(UsedWeight(before) + weight + (signed ? 1 : 0), UsedWeight(after));
    }

    private static int UsedWeight(System.Net.Http.Headers.HttpResponseHeaders headers) =>
        int.Parse(headers.GetValues("X-MBX-USED-WEIGHT-1M").Single(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task ExecuteLateFault_ClientGoneBeforeExecution_OrderStillExecutes()
    {
        // Held 3 s, the client gone after 1 s: seconds, not milliseconds, of margin on a loaded machine.
        await Paper.InjectFaultAsync(FaultKind.ExecuteLate, "/fapi/v1/order", latencyMs: 3_000);
        using var impatient = new HttpClient { BaseAddress = Paper.Address, Timeout = TimeSpan.FromSeconds(1) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SignedHttp.SendAsync(impatient, HttpMethod.Post, "fapi/v1/order", Market + "late-raw"));
        Assert.Empty(await Paper.OrdersAsync("late-raw"));
        await Poll.UntilAsync(() => Paper.OrdersAsync("late-raw"), orders => orders.Count == 1, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LatencyFault_ClientGoneBeforeExecution_NothingExecutes()
    {
        await Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/order", latencyMs: 3_000);
        using var impatient = new HttpClient { BaseAddress = Paper.Address, Timeout = TimeSpan.FromSeconds(1) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SignedHttp.SendAsync(impatient, HttpMethod.Post, "fapi/v1/order", Market + "lost-raw"));
        // The request reached the venue (else "nothing executes" would hold without testing anything), and past its
        // 3 s hold nothing executed.
        await Poll.UntilAsync(() => Paper.RequestCountAsync("POST /fapi/v1/order"), n => n == 1, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Empty(await Paper.OrdersAsync("lost-raw"));
    }

    [Fact]
    public async Task UnavailableFault_Answers503WithBinancesMinus1001Body()
    {
        await Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/ticker/price");
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/ticker/price", "symbol=BTCUSDT", signed: false);
        Assert.Equal(503, status);
        Assert.Equal(-1001, body.GetProperty("code").GetInt32());
        Assert.Equal("Internal error; unable to process your request. Please try again.", body.GetProperty("msg").GetString());
    }
}

public class StrictClientOrderIdTests : PaperTest
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Paper:StrictClientOrderIds"] = "true" };

    [Fact]
    public async Task NewOrder_StrictModeAndIdOfAFilledOrder_IsRefusedWithMinus4116()
    {
        const string order = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=strict";
        var (first, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);
        var (second, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);
        Assert.Equal((200, 400), (first, second));
        Assert.Equal(-4116, body.GetProperty("code").GetInt32());
    }
}

public class OrderRateLimitTests : PaperTest
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Paper:EnforceRateLimits"] = "true",
        ["Paper:OrderLimitPer10Seconds"] = "1",
    };

    [Fact]
    public async Task NewOrder_OverTheOrderCountLimit_Answers429WithMinus1015()
    {
        const string order = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010";
        var (first, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);
        var (second, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);
        Assert.Equal((200, 429), (first, second));
        Assert.Equal(-1015, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task NewOrder_OverTheTenSecondOrderLimit_RetryAfterIsThatWindowsRemainder()
    {
        const string order = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010";
        await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);
        var (status, _, headers) = await SignedHttp.SendWithHeadersAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", order);

        Assert.Equal(429, status);
        // Only the 10-second window tripped: waiting out the minute (up to 60 s) would stall the client for nothing.
        Assert.InRange(headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 10);
    }
}

public class FundingRouteLimitTests : PaperTest
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Paper:EnforceRateLimits"] = "true",
        ["Paper:FundingRouteLimitPer5Minutes"] = "3",
    };

    [Fact]
    public async Task FundingRoutes_OverTheirSharedLimit_Answer429WhileWeightedRoutesAnswer()
    {
        // fundingRate and fundingInfo share the limit and weigh nothing on the IP's request weight.
        using (var first = await Paper.Http.GetAsync("fapi/v1/fundingRate?symbol=BTCUSDT"))
        using (var second = await Paper.Http.GetAsync("fapi/v1/fundingInfo"))
        using (var third = await Paper.Http.GetAsync("fapi/v1/fundingRate?symbol=ETHUSDT"))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode, third.StatusCode));
            Assert.Equal("0", third.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single());
        }

        using var refused = await Paper.Http.GetAsync("fapi/v1/fundingInfo");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal(-1003, body.RootElement.GetProperty("code").GetInt32());
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 300);

        using var weighted = await Paper.Http.GetAsync("fapi/v1/premiumIndex?symbol=BTCUSDT");
        Assert.Equal(HttpStatusCode.OK, weighted.StatusCode);
        Assert.Equal("1", weighted.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single());
    }
}

public class ControlApiExposureTests
{
    [Fact]
    public async Task ControlApi_TestingEnvironmentByDefault_IsMapped()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        using var response = await paper.Http.GetAsync("paper/v1/state");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ControlApi_DisabledByConfiguration_IsNotMapped()
    {
        await using var paper = await PaperExchangeHost.StartAsync(new Dictionary<string, string?> { ["Paper:EnableControlApi"] = "false" });
        using var response = await paper.Http.GetAsync("paper/v1/state");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await paper.Http.GetAsync("fapi/v1/time")).StatusCode);
    }

    [Fact]
    public async Task ControlApi_ProductionEnvironmentAndUnset_IsNotMapped()
    {
        await using var paper = await PaperExchangeHost.StartAsync(new Dictionary<string, string?> { ["environment"] = "Production" });
        using var response = await paper.Http.PostAsync("paper/v1/clock/advance", new StringContent("{\"seconds\":60}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
