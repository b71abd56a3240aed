using System.Text.Json;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Contract;

/// <summary>
/// The simulator's JSON for each endpoint against the documented example (Fixtures/*.json): the same field names
/// and the same JSON types, recursively. One simulator serves every case; the state is set up once.
/// </summary>
public sealed class ResponseShapeTests : IAsyncLifetime
{
    private static readonly HashSet<string> Conditional = new(StringComparer.Ordinal) { "activatePrice", "priceRate", "notionalCoef" };
    private PaperExchangeHost _paper = null!;

    public async Task InitializeAsync()
    {
        _paper = await PaperExchangeHost.StartAsync();
        var http = _paper.Http;
        // A filled market order, a resting limit order, a conditional order, a position, commission and funding rows.
        await Ok(SignedHttp.SendAsync(http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=shape-mkt"));
        await Ok(SignedHttp.SendAsync(http, HttpMethod.Post, "fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=50000&newClientOrderId=shape-lmt"));
        await Ok(SignedHttp.SendAsync(http, HttpMethod.Post, "fapi/v1/algoOrder", "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=40000&closePosition=true&workingType=MARK_PRICE&clientAlgoId=shape-sl"));
        await _paper.AdvanceAsync(TimeSpan.FromHours(8));
    }

    public async Task DisposeAsync() => await _paper.DisposeAsync();

    private static async Task Ok(Task<(int Status, JsonElement Body)> call)
    {
        var (status, body) = await call;
        Assert.True(status == 200, body.ToString());
    }

    [Theory]
    [InlineData("time.json", "GET", "fapi/v1/time", "", false)]
    [InlineData("exchangeInfo.json", "GET", "fapi/v1/exchangeInfo", "", false)]
    [InlineData("premiumIndex.json", "GET", "fapi/v1/premiumIndex", "symbol=BTCUSDT", false)]
    [InlineData("fundingRate.json", "GET", "fapi/v1/fundingRate", "symbol=BTCUSDT", false)]
    [InlineData("fundingInfo.json", "GET", "fapi/v1/fundingInfo", "", false)]
    [InlineData("tickerPrice.json", "GET", "fapi/v1/ticker/price", "symbol=BTCUSDT", false)]
    [InlineData("leverageBracket.json", "GET", "fapi/v1/leverageBracket", "symbol=ETHUSDT", true)]
    [InlineData("queryOrder.json", "GET", "fapi/v1/order", "symbol=BTCUSDT&origClientOrderId=shape-mkt", true)]
    [InlineData("openOrders.json", "GET", "fapi/v1/openOrders", "symbol=BTCUSDT", true)]
    [InlineData("positionRiskV2.json", "GET", "fapi/v2/positionRisk", "symbol=BTCUSDT", true)]
    [InlineData("positionRiskV3.json", "GET", "fapi/v3/positionRisk", "symbol=BTCUSDT", true)]
    [InlineData("balanceV3.json", "GET", "fapi/v3/balance", "", true)]
    [InlineData("accountV3.json", "GET", "fapi/v3/account", "", true)]
    [InlineData("income.json", "GET", "fapi/v1/income", "", true)]
    [InlineData("userTrades.json", "GET", "fapi/v1/userTrades", "symbol=BTCUSDT", true)]
    [InlineData("algoOrder.json", "GET", "fapi/v1/algoOrder", "clientAlgoId=shape-sl", true)]
    [InlineData("leverage.json", "POST", "fapi/v1/leverage", "symbol=ETHUSDT&leverage=21", true)]
    [InlineData("positionSideDual.json", "GET", "fapi/v1/positionSide/dual", "", true)]
    public async Task Endpoint_SimulatorResponse_HasDocumentedFieldsAndTypes(string fixture, string method, string path, string query, bool signed)
    {
        var expected = Load(fixture);
        var (status, actual) = await SignedHttp.SendAsync(_paper.Http, new HttpMethod(method), path, query, signed);
        Assert.True(status == 200, actual.ToString());
        AssertSameShape(expected, actual, fixture);
    }

    [Fact]
    public async Task NewOrder_SimulatorResponse_HasDocumentedFieldsAndTypes()
    {
        var (status, actual) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=ETHUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=shape-new");
        Assert.Equal(200, status);
        AssertSameShape(Load("newOrder.json"), actual, "newOrder.json");
    }

    [Fact]
    public async Task NewAlgoOrder_SimulatorResponse_HasDocumentedFieldsAndTypes()
    {
        var (status, actual) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=ETHUSDT&side=SELL&type=TAKE_PROFIT_MARKET&triggerPrice=3500&quantity=0.010&reduceOnly=true&clientAlgoId=shape-tp");
        Assert.Equal(200, status);
        AssertSameShape(Load("algoOrder.json"), actual, "algoOrder.json");
    }

    [Fact]
    public async Task CancelAlgoOrder_SimulatorResponse_HasDocumentedFieldsAndTypes()
    {
        // A closePosition order needs a position to close (-4509 without one).
        var (opened, _) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Post, "fapi/v1/order", "symbol=ETHUSDT&side=BUY&type=MARKET&quantity=0.010");
        Assert.Equal(200, opened);
        var (placed, _) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Post, "fapi/v1/algoOrder",
            "algoType=CONDITIONAL&symbol=ETHUSDT&side=SELL&type=STOP_MARKET&triggerPrice=2500&closePosition=true&workingType=MARK_PRICE&clientAlgoId=shape-cancel");
        Assert.Equal(200, placed);
        var (status, actual) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Delete, "fapi/v1/algoOrder", "clientAlgoId=shape-cancel");
        Assert.Equal(200, status);
        AssertSameShape(Load("cancelAlgoOrder.json"), actual, "cancelAlgoOrder.json");
        Assert.Equal(("shape-cancel", "200", "success"),
            (actual.GetProperty("clientAlgoId").GetString(), actual.GetProperty("code").GetString(), actual.GetProperty("msg").GetString()));
    }

    [Fact]
    public async Task MarginTypeAndCancelAll_SimulatorResponses_AreCodeAndMessage()
    {
        var (s1, margin) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Post, "fapi/v1/marginType", "symbol=SOLUSDT&marginType=ISOLATED");
        var (s2, cancel) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Delete, "fapi/v1/allOpenOrders", "symbol=ETHUSDT");
        Assert.Equal((200, 200), (s1, s2));
        AssertSameShape(Load("marginType.json"), margin, "marginType.json");
        AssertSameShape(Load("cancelAllOpenOrders.json"), cancel, "cancelAllOpenOrders.json");
        Assert.Equal("The operation of cancel all open order is done.", cancel.GetProperty("msg").GetString());
    }

    [Fact]
    public async Task Error_InvalidSymbol_IsBinanceCodeAndMessage()
    {
        var (status, body) = await SignedHttp.SendAsync(_paper.Http, HttpMethod.Get, "fapi/v1/premiumIndex", "symbol=NOPEUSDT", signed: false);
        Assert.Equal(400, status);
        Assert.Equal(-1121, body.GetProperty("code").GetInt32());
        Assert.Equal("Invalid symbol.", body.GetProperty("msg").GetString());
    }

    private static JsonElement Load(string fixture)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture)));
        return doc.RootElement.Clone();
    }

    private static void AssertSameShape(JsonElement expected, JsonElement actual, string at)
    {
        if (expected.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        Assert.True(Kind(expected) == Kind(actual), $"{at}: expected {expected.ValueKind}, got {actual.ValueKind} ({actual})");
        if (expected.ValueKind == JsonValueKind.Object)
        {
            var expectedNames = expected.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var property in actual.EnumerateObject())
            {
                Assert.True(expectedNames.Contains(property.Name), $"{at}: field '{property.Name}' is not in the documented example");
            }

            foreach (var property in expected.EnumerateObject())
            {
                if (actual.TryGetProperty(property.Name, out var value))
                {
                    AssertSameShape(property.Value, value, at + "." + property.Name);
                }
                else
                {
                    Assert.True(Conditional.Contains(property.Name), $"{at}: documented field '{property.Name}' is missing");
                }
            }
        }
        else if (expected.ValueKind == JsonValueKind.Array && expected.GetArrayLength() > 0)
        {
            Assert.True(actual.GetArrayLength() > 0, $"{at}: expected a non-empty array to compare");
            foreach (var item in actual.EnumerateArray())
            {
                AssertSameShape(Counterpart(expected, item, at), item, at + "[]");
            }
        }
    }

    /// <summary>Arrays of typed objects (exchangeInfo filters) are compared per filterType; others with the first element.</summary>
    private static JsonElement Counterpart(JsonElement expected, JsonElement item, string at)
    {
        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("filterType", out var type))
        {
            foreach (var candidate in expected.EnumerateArray())
            {
                if (candidate.TryGetProperty("filterType", out var t) && t.GetString() == type.GetString())
                {
                    return candidate;
                }
            }

            Assert.Fail($"{at}: filterType {type} is not in the documented example");
        }

        return expected[0];
    }

    private static JsonValueKind Kind(JsonElement e) => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : e.ValueKind;
}
