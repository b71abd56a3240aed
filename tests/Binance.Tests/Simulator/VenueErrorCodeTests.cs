using System.Text.Json;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain.Instruments;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// The simulator refuses with the code, HTTP status and message Binance USD-M documents ("Error Codes",
/// developers.binance.com/docs/derivatives/usds-margined-futures/error-code), and enforces the filters its exchangeInfo
/// advertises (PERCENT_PRICE: BUY price &lt;= markPrice × multiplierUp, SELL price &gt;= markPrice × multiplierDown).
/// </summary>
public class VenueErrorCodeTests : PaperTest
{
    private const string RestingBuy = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=50000";

    [Fact]
    public async Task MarginType_OpenOrderAndNoPosition_Minus4047()
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", RestingBuy));

        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED");

        AssertError(status, body, -4047, "Margin type cannot be changed if there exists open orders.");
    }

    [Fact]
    public async Task MarginType_PositionAndOpenOrder_Minus4048()
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", RestingBuy));

        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=BTCUSDT&marginType=ISOLATED");

        AssertError(status, body, -4048, "Margin type cannot be changed if there exists position.");
    }

    [Theory]
    [InlineData("CROSS")]
    [InlineData("crossed")]
    [InlineData("isolated")]
    [InlineData("Isolated")]
    public async Task MarginType_NotExactlyIsolatedOrCrossed_Minus1130AndUnchanged(string marginType)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=SOLUSDT&marginType=" + marginType);

        AssertError(status, body, -1130, "Data sent for parameter 'marginType' is not valid.");
        var (_, positions) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v2/positionRisk", "symbol=SOLUSDT");
        Assert.Equal("cross", positions[0].GetProperty("marginType").GetString());
    }

    [Fact]
    public async Task MarginType_ExactValues_AreAccepted()
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=SOLUSDT&marginType=ISOLATED"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=SOLUSDT&marginType=CROSSED"));
    }

    [Fact]
    public async Task NewOrder_PriceAboveMaxPrice_Minus4002()
    {
        // A SELL, so PERCENT_PRICE (which bounds a SELL from below only) cannot be what refuses it.
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.010&price=5000000");

        AssertError(status, body, -4002, "Price greater than max price.");
        Assert.Empty(await Paper.OrdersAsync());
    }

    [Theory]
    [InlineData("BUY", "63000.1", -4016, "Price is higher than mark price multiplier cap.")] // mark 60000 × 1.05 = 63000
    [InlineData("SELL", "56999.9", -4024, "Price is lower than mark price multiplier floor.")] // mark 60000 × 0.95 = 57000
    public async Task NewOrder_LimitOutsidePercentPrice_RefusedAndNothingExecuted(string side, string price, int code, string message)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            $"symbol=BTCUSDT&side={side}&type=LIMIT&timeInForce=GTC&quantity=0.010&price={price}");

        AssertError(status, body, code, message);
        Assert.Empty(await Paper.OrdersAsync());
        var (_, positions) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v2/positionRisk", "symbol=BTCUSDT");
        Assert.Equal("0.000", positions[0].GetProperty("positionAmt").GetString());
    }

    [Theory]
    [InlineData("BUY", "63000", "FILLED")] // exactly at the cap: marketable, fills at the mark
    [InlineData("SELL", "57000", "FILLED")] // exactly at the floor
    [InlineData("BUY", "40000", "NEW")] // a BUY has no floor: it rests
    [InlineData("SELL", "80000", "NEW")] // a SELL has no cap: it rests
    public async Task NewOrder_LimitWithinPercentPrice_IsAccepted(string side, string price, string expected)
    {
        var body = await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            $"symbol=BTCUSDT&side={side}&type=LIMIT&timeInForce=GTC&quantity=0.010&price={price}"));

        Assert.Equal(expected, body.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&positionSide=LONG")]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&positionSide=SHORT")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&positionSide=LONG")]
    public async Task NewOrder_HedgeModePositionSideInOneWayMode_Minus4061AndNothingPlaced(string path, string query)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, path, query);

        AssertError(status, body, -4061, "Order's position side does not match user's setting.");
        var state = await Paper.StateAsync();
        Assert.Empty(state.Positions);
    }

    /// <summary>
    /// A FOK that cannot fill whole at once is refused -5021 and not recorded (a query by its id: -2013), as Binance
    /// documents; an IOC is answered 200 EXPIRED. Before, the FOK was recorded and answered EXPIRED like an IOC.
    /// </summary>
    [Fact]
    public async Task NewOrder_FokThatCannotFillAtOnce_Minus5021AndNotRecorded_IocExpired()
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=FOK&quantity=0.010&price=57000&newClientOrderId=fok-away");

        AssertError(status, body, -5021,
            "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history");
        Assert.Empty(await Paper.OrdersAsync());
        var (queryStatus, query) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=fok-away");
        AssertError(queryStatus, query, -2013, "Order does not exist.");

        // A reduce-only FOK larger than the position held cannot fill whole either: refused, the position unchanged.
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        var (reduceStatus, reduce) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=FOK&quantity=0.020&price=57000&reduceOnly=true");
        AssertError(reduceStatus, reduce, -5021,
            "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history");
        var (_, positions) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v2/positionRisk", "symbol=BTCUSDT");
        Assert.Equal("0.010", positions[0].GetProperty("positionAmt").GetString());

        // The same FOK, marketable, fills; a non-marketable IOC expires with a 200.
        var filled = await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=FOK&quantity=0.010&price=63000"));
        Assert.Equal("FILLED", filled.GetProperty("status").GetString());
        var ioc = await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.010&price=57000"));
        Assert.Equal("EXPIRED", ioc.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("XYZ")]
    [InlineData("gtc")]
    public async Task NewOrder_UnknownTimeInForce_Minus1115(string tif)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            $"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce={tif}&quantity=0.010&price=50000");

        AssertError(status, body, -1115, "Invalid timeInForce.");
    }

    [Fact]
    public async Task NewOrder_PositionSideBoth_Accepted()
    {
        var (status, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&positionSide=BOTH");

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task AlgoOrder_PastMaxNumAlgoOrders_Minus4045()
    {
        // Sized reduce-only stops: only one closePosition order of a type may stand per direction (-4130).
        for (var i = 0; i < 10; i++)
        {
            var (placed, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
                $"algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice={58000 - i * 10}&quantity=0.010&reduceOnly=true");
            Assert.Equal(200, placed);
        }

        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=57000&quantity=0.010&reduceOnly=true");

        AssertError(status, body, -4045, "Reach max stop order limit.");
        // Another symbol has its own limit.
        var (other, _) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=ETHUSDT&side=SELL&type=STOP_MARKET&triggerPrice=2000&quantity=0.010&reduceOnly=true");
        Assert.Equal(200, other);
    }

    /// <summary>
    /// Binance keeps one open closePosition order per type and direction on a symbol: a second stop-loss on the same
    /// closing side is -4130 and nothing is placed; a take-profit beside it, a stop on the other side, a sized stop and
    /// (once the first is cancelled) a replacement are all taken.
    /// </summary>
    [Fact]
    public async Task AlgoOrder_SecondClosePositionOfATypeInOneDirection_Minus4130AndNothingPlaced()
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=first-sl"));

        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=59000&closePosition=true&clientAlgoId=second-sl");

        AssertError(status, body, -4130, "An open stop or take profit order with GTE and closePosition in the direction is existing.");
        var (_, open) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/openAlgoOrders", "symbol=BTCUSDT");
        Assert.Equal("first-sl", Assert.Single(open.EnumerateArray()).GetProperty("clientAlgoId").GetString());
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=TAKE_PROFIT_MARKET&triggerPrice=70000&closePosition=true"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=BUY&type=STOP_MARKET&triggerPrice=70000&closePosition=true"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=57000&quantity=0.010&reduceOnly=true"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "clientAlgoId=first-sl"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=59000&closePosition=true&clientAlgoId=second-sl"));
    }

    /// <summary>A closePosition order is GTE_GTC on Binance: with no position to close it is -4509 and nothing is placed.</summary>
    [Fact]
    public async Task AlgoOrder_ClosePositionWithNoPosition_Minus4509AndNothingPlaced()
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=no-position");

        AssertError(status, body, -4509, "TIF GTE can only be used with open positions.");
        var (_, open) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/openAlgoOrders", "symbol=BTCUSDT");
        Assert.Empty(open.EnumerateArray());
        // A sized reduce-only stop needs no position.
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&quantity=0.010&reduceOnly=true"));
    }

    /// <summary>
    /// closePosition orders (GTE_GTC) expire with the position they close: the take-profit when the stop-loss closed it,
    /// both when a market order did. None is left to close the next position at an old trigger.
    /// </summary>
    [Theory]
    [InlineData("stop-loss")]
    [InlineData("market close")]
    public async Task AlgoOrder_ClosePositionOrders_ExpireWhenThePositionCloses(string closedBy)
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=gte-sl"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=TAKE_PROFIT_MARKET&triggerPrice=70000&closePosition=true&clientAlgoId=gte-tp"));
        var (_, placed) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/algoOrder", "clientAlgoId=gte-tp");
        Assert.Equal("GTE_GTC", placed.GetProperty("timeInForce").GetString());

        if (closedBy == "stop-loss")
        {
            await Paper.SetPriceAsync("BTCUSDT", 57990m);
        }
        else
        {
            await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&reduceOnly=true"));
        }

        var (_, open) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/openAlgoOrders", "symbol=BTCUSDT");
        Assert.Empty(open.EnumerateArray());
        var (_, tp) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/algoOrder", "clientAlgoId=gte-tp");
        Assert.Equal("EXPIRED", tp.GetProperty("algoStatus").GetString());
        var (_, sl) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/algoOrder", "clientAlgoId=gte-sl");
        Assert.Equal(closedBy == "stop-loss" ? "FINISHED" : "EXPIRED", sl.GetProperty("algoStatus").GetString());
    }

    /// <summary>
    /// A stop that triggers without the margin for what it opens is REJECTED (Binance's ALGO_UPDATE: "denied by the
    /// matching engine, such as in scenarios of margin check failures"), and nothing fills. One that closes a long and
    /// would open a short beyond it is judged on that short: before, any order that reduced skipped the check (and the
    /// failure was EXPIRED).
    /// </summary>
    [Fact]
    public async Task AlgoOrder_TriggeredWithoutMarginForWhatItOpens_RejectedAndNothingFilled()
    {
        await Paper.ResetAsync(300m);
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        // Sells 1 BTC when the mark falls to 58,000: closes the 0.01 long and opens a short of 0.99 (about 2,870 of margin
        // at 20x, far past a wallet of 300).
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&quantity=1&clientAlgoId=flip"));

        await Paper.SetPriceAsync("BTCUSDT", 57990m);

        var (_, flip) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/algoOrder", "clientAlgoId=flip");
        Assert.Equal("REJECTED", flip.GetProperty("algoStatus").GetString());
        var (_, positions) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v2/positionRisk", "symbol=BTCUSDT");
        Assert.Equal("0.010", positions[0].GetProperty("positionAmt").GetString());
        Assert.DoesNotContain(await Paper.OrdersAsync(), o => o.ClientOrderId == "flip");
    }

    [Fact]
    public async Task CancelAlgoOrder_NotOpenOrUnknown_Minus2011AndNeitherIdIsMinus1102()
    {
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=cancel-me"));
        await Ok(SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "clientAlgoId=cancel-me"));

        var (again, againBody) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "clientAlgoId=cancel-me");
        AssertError(again, againBody, -2011, "Unknown order sent.");
        var (unknown, unknownBody) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "algoId=987654321");
        AssertError(unknown, unknownBody, -2011, "Unknown order sent.");
        var (neither, neitherBody) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "");
        AssertError(neither, neitherBody, -1102, "Mandatory parameter 'algoId' was not sent, was empty/null, or malformed.");
    }

    [Theory]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=abc", "quantity")]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1e-3", "quantity")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000,5&closePosition=true", "triggerPrice")]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=-0.010", "quantity")] // a sign is outside the range
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010000000000000000000", "quantity")] // 21 decimals
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=000000000000000000000.010", "quantity")] // 21 integer digits
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=.010", "quantity")]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.", "quantity")]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=-50000", "price")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=-58000&closePosition=true", "triggerPrice")]
    public async Task NewOrder_MalformedDecimal_Minus1100WithTheLegalRange(string path, string query, string name)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, path, query);

        AssertError(status, body, -1100, $"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.");
        Assert.DoesNotContain(await Paper.OrdersAsync(), o => o.Symbol == "BTCUSDT");
    }

    /// <summary>The longest a decimal can be in that range (20 digits either side of the point) is taken.</summary>
    [Fact]
    public async Task NewOrder_DecimalOfTwentyDigitsEitherSide_Taken()
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/order",
            "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=00000000000000000000.01000000000000000000&newClientOrderId=twenty");

        Assert.True(status == 200, body.ToString());
        Assert.Equal(0.010m, decimal.Parse(body.GetProperty("origQty").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A closePosition order sent with a quantity: Binance's -4137, not -1106 (parameter not required).</summary>
    [Fact]
    public async Task NewAlgoOrder_ClosePositionWithQuantity_Minus4137()
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&quantity=0.010&clientAlgoId=close-qty");

        AssertError(status, body, -4137, "Quantity must be zero with closePosition equals true");
    }

    /// <summary>A client id longer than Binance's 36 characters: -4015 (INVALID_CL_ORD_ID_LEN), not -1130; nothing placed.</summary>
    [Theory]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=")]
    public async Task NewOrder_ClientIdLongerThan36_Minus4015(string path, string query)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, path, query + new string('a', 37));

        AssertError(status, body, -4015, "Client order id is not valid.");
        Assert.DoesNotContain(await Paper.OrdersAsync(), o => o.Symbol == "BTCUSDT");
    }

    /// <summary>
    /// A client id with a character outside Binance's pattern: -1100 naming the parameter and the pattern, as Binance
    /// answers (not -1130); nothing placed.
    /// </summary>
    [Theory]
    [InlineData("fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=bad%20id!", "newClientOrderId")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true&clientAlgoId=bad%23id", "clientAlgoId")]
    public async Task NewOrder_ClientIdWithIllegalCharacters_Minus1100(string path, string query, string name)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, path, query);

        AssertError(status, body, -1100, $"Illegal characters found in parameter '{name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{{1,36}}$'.");
        Assert.DoesNotContain(await Paper.OrdersAsync(), o => o.Symbol == "BTCUSDT");
    }

    /// <summary>
    /// An integer parameter that is not digits (letters, a sign, a point): -1100 naming it and '^[0-9]{1,20}$', as Binance
    /// answers. Before, a sign was taken ("orderId=-5" looked up) and letters answered -1102.
    /// </summary>
    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("5.0")]
    [InlineData("123456789012345678901")]
    public async Task QueryOrder_OrderIdNotDigits_Minus1100(string orderId)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/order", "symbol=BTCUSDT&orderId=" + Uri.EscapeDataString(orderId));

        AssertError(status, body, -1100, "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.");
    }

    [Theory]
    [InlineData("fapi/v1/order", "side=BUY&type=MARKET&quantity=0.010")]
    [InlineData("fapi/v1/order", "symbol=&side=BUY&type=MARKET&quantity=0.010")]
    [InlineData("fapi/v1/algoOrder", "algoType=CONDITIONAL&side=SELL&type=STOP_MARKET&triggerPrice=58000&closePosition=true")]
    public async Task NewOrder_SymbolMissingOrEmpty_Minus1102(string path, string query)
    {
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Post, path, query);

        AssertError(status, body, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    }

    [Theory]
    [InlineData("0.002", false)] // LOT_SIZE minQty 0.005, on the step
    [InlineData("0.006", true)] // MARKET_LOT_SIZE minQty 0.010, on the step
    public void CheckQuantity_PositiveButBelowMinQty_Minus4004(string quantity, bool isMarket)
    {
        var e = Assert.Throws<VenueRejection>(() => PaperEngine.CheckQuantity(MinQtyAboveStep(), decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), isMarket));

        Assert.Equal((-4004, "Quantity less than min quantity.", 400), (e.Code, e.Message, e.HttpStatus));
    }

    [Fact]
    public void CheckQuantity_Zero_Minus4003()
    {
        var e = Assert.Throws<VenueRejection>(() => PaperEngine.CheckQuantity(MinQtyAboveStep(), 0m, isMarket: false));

        Assert.Equal(-4003, e.Code);
    }

    /// <summary>BTCUSDT with minimum quantities above one step: the only way a positive, on-step quantity is below the minimum.</summary>
    private static MarketDefinition MinQtyAboveStep() =>
        MarketCatalog.Build(new PaperOptions()).Single(d => d.Symbol == "BTCUSDT") with
        {
            Filters = new SymbolFilters(
                tickSize: 0.10m, stepSize: 0.001m, minQty: 0.005m, maxQty: 1000m,
                marketMinQty: 0.010m, marketMaxQty: 120m, minNotional: 100m, pricePrecision: 2, quantityPrecision: 3),
        };

    private static void AssertError(int status, JsonElement body, int code, string message)
    {
        Assert.Equal(400, status);
        Assert.Equal((code, message), (body.GetProperty("code").GetInt32(), body.GetProperty("msg").GetString()));
    }

    private static async Task<JsonElement> Ok(Task<(int Status, JsonElement Body)> call)
    {
        var (status, body) = await call;
        Assert.True(status == 200, $"HTTP {status}: {body}");
        return body;
    }
}
