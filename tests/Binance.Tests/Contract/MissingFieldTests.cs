using System.Text.Json;
using System.Text.Json.Nodes;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;

namespace TradeEngine.Binance.Tests.Contract;

/// <summary>
/// A number or flag the documentation promises and the client uses must be there: Binance's documented example
/// (Fixtures/*.json) with that one field left out, or sent as null, is a protocol error naming the field, never read
/// as 0 or false (an order id 0, a fill time of 1970, a trade id that collides with every other missing one).
/// </summary>
public class MissingFieldTests
{
    private static JsonNode Fixture(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name)))!;

    private static T Read<T>(JsonNode node, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(node.ToJsonString(), type)!;

    /// <summary>How each documented answer is read, as the client reads it.</summary>
    private static readonly Dictionary<string, (string Fixture, Action<JsonNode> Parse)> Readers = new()
    {
        ["time"] = ("time.json", n => BinanceParse.ServerTime(Read(n, VenueJsonContext.Default.ServerTimeDto))),
        ["exchangeInfo"] = ("exchangeInfo.json", n => BinanceParse.ExchangeInfo(Read(n, VenueJsonContext.Default.ExchangeInfoDto))),
        ["premiumIndex"] = ("premiumIndex.json", n => BinanceParse.PremiumIndex(Read(n, VenueJsonContext.Default.PremiumIndexDto))),
        ["fundingRate"] = ("fundingRate.json", n => Read(n, VenueJsonContext.Default.ListFundingRateDto).ForEach(d => BinanceParse.FundingRate(d))),
        ["fundingInfo"] = ("fundingInfo.json", n => Read(n, VenueJsonContext.Default.ListFundingInfoDto).ForEach(d => BinanceParse.FundingInfo(d))),
        ["ticker/price"] = ("tickerPrice.json", n => BinanceParse.Ticker(Read(n, VenueJsonContext.Default.TickerPriceDto))),
        ["leverageBracket"] = ("leverageBracket.json", n => Read(n, VenueJsonContext.Default.SymbolBracketsAnswerDto).Items.ForEach(d => BinanceParse.Brackets(d))),
        ["order (query)"] = ("queryOrder.json", n => BinanceParse.Order(Read(n, VenueJsonContext.Default.OrderDto))),
        ["order (new)"] = ("newOrder.json", n => BinanceParse.Order(Read(n, VenueJsonContext.Default.OrderDto))),
        // The documented example is a TAKE_PROFIT (limit) order, which the client does not place.
        ["algoOrder"] = ("algoOrder.json", n =>
        {
            n["orderType"] = "TAKE_PROFIT_MARKET";
            BinanceParse.AlgoOrder(Read(n, VenueJsonContext.Default.AlgoOrderDto));
        }),
        ["leverage"] = ("leverage.json", n => BinanceParse.Leverage(Read(n, VenueJsonContext.Default.LeverageDto))),
        ["positionSide/dual"] = ("positionSideDual.json", n => BinanceParse.PositionModeOf(Read(n, VenueJsonContext.Default.PositionModeDto))),
        ["positionRisk"] = ("positionRiskV2.json", n => Read(n, VenueJsonContext.Default.ListPositionRiskDto).ForEach(d => BinanceParse.Position(d))),
        ["balance"] = ("balanceV3.json", n => Read(n, VenueJsonContext.Default.ListBalanceDto).ForEach(d => BinanceParse.Balance(d))),
        ["account"] = ("accountV3.json", n => BinanceParse.Account(Read(n, VenueJsonContext.Default.AccountDto))),
        ["income"] = ("income.json", n => Read(n, VenueJsonContext.Default.ListIncomeDto).ForEach(d => BinanceParse.Income(d))),
        ["userTrades"] = ("userTrades.json", n => Read(n, VenueJsonContext.Default.ListUserTradeDto).ForEach(d => BinanceParse.Trade(d))),
    };

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void DocumentedExample_Reads(string reader)
    {
        var (fixture, parse) = Readers[reader];
        parse(Fixture(fixture));
    }

    public static TheoryData<string> ReaderNames() => new(Readers.Keys);

    [Theory]
    [InlineData("time", "serverTime", "serverTime")]
    [InlineData("exchangeInfo", "serverTime", "serverTime")]
    [InlineData("exchangeInfo", "rateLimits.0.intervalNum", "intervalNum")]
    [InlineData("exchangeInfo", "rateLimits.0.limit", "limit")]
    [InlineData("exchangeInfo", "symbols.0.pricePrecision", "BLZUSDT.pricePrecision")]
    [InlineData("exchangeInfo", "symbols.0.quantityPrecision", "BLZUSDT.quantityPrecision")]
    [InlineData("premiumIndex", "nextFundingTime", "nextFundingTime")]
    [InlineData("premiumIndex", "time", "time")]
    [InlineData("fundingRate", "0.fundingTime", "fundingTime")]
    [InlineData("fundingInfo", "0.fundingIntervalHours", "fundingIntervalHours")]
    [InlineData("ticker/price", "time", "time")]
    [InlineData("leverageBracket", "brackets.0.bracket", "bracket")]
    [InlineData("leverageBracket", "brackets.0.initialLeverage", "initialLeverage")]
    [InlineData("order (query)", "orderId", "orderId")]
    [InlineData("order (query)", "reduceOnly", "reduceOnly")]
    [InlineData("order (query)", "closePosition", "closePosition")]
    [InlineData("order (query)", "updateTime", "updateTime")]
    [InlineData("order (new)", "orderId", "orderId")]
    [InlineData("order (new)", "updateTime", "updateTime")]
    [InlineData("algoOrder", "algoId", "algoId")]
    [InlineData("algoOrder", "closePosition", "closePosition")]
    [InlineData("algoOrder", "reduceOnly", "reduceOnly")]
    [InlineData("algoOrder", "workingType", "workingType")]
    [InlineData("algoOrder", "createTime", "createTime")]
    [InlineData("algoOrder", "updateTime", "updateTime")]
    [InlineData("leverage", "leverage", "leverage")]
    [InlineData("positionSide/dual", "dualSidePosition", "dualSidePosition")]
    [InlineData("positionRisk", "0.updateTime", "updateTime")]
    [InlineData("balance", "0.updateTime", "updateTime")]
    [InlineData("account", "assets.0.updateTime", "assets.updateTime")]
    [InlineData("account", "positions.0.updateTime", "positions.updateTime")]
    [InlineData("income", "0.time", "time")]
    [InlineData("income", "0.tranId", "tranId")]
    [InlineData("userTrades", "0.id", "id")]
    [InlineData("userTrades", "0.orderId", "orderId")]
    [InlineData("userTrades", "0.buyer", "buyer")]
    [InlineData("userTrades", "0.maker", "maker")]
    [InlineData("userTrades", "0.time", "time")]
    public void RequiredField_LeftOutOrNull_IsAProtocolErrorNamingIt(string reader, string path, string field)
    {
        var (fixture, parse) = Readers[reader];

        var leftOut = Fixture(fixture);
        Remove(leftOut, path);
        var missing = Assert.Throws<BinanceProtocolException>(() => parse(leftOut));
        Assert.Equal(field, missing.Field);
        Assert.Contains("missing", missing.Message, StringComparison.Ordinal);

        var nulled = Fixture(fixture);
        SetNull(nulled, path);
        Assert.Equal(field, Assert.Throws<BinanceProtocolException>(() => parse(nulled)).Field);
    }

    /// <summary>A conditional order's trigger price type other than the two documented is refused, not read as MARK_PRICE.</summary>
    [Theory]
    [InlineData("LAST_PRICE")]
    [InlineData("mark_price")]
    [InlineData("")]
    public void AlgoOrder_UndocumentedWorkingType_IsAProtocolErrorNamingIt(string workingType)
    {
        var node = Fixture("algoOrder.json");
        node["workingType"] = workingType;

        Assert.Equal("workingType", Assert.Throws<BinanceProtocolException>(() => Readers["algoOrder"].Parse(node)).Field);
        node["workingType"] = "MARK_PRICE";
        Readers["algoOrder"].Parse(node);
    }

    [Fact]
    public void Time_OutsideTheCalendar_IsAProtocolErrorNamingIt()
    {
        var node = Fixture("tickerPrice.json");
        node["time"] = long.MaxValue;
        var error = Assert.Throws<BinanceProtocolException>(() => Readers["ticker/price"].Parse(node));
        Assert.Equal("time", error.Field);
    }

    /// <summary>
    /// Figures outside what they can be are the venue answering nonsense: a funding rate, cap or floor outside (-1, 1),
    /// a mark price of 0 or less (an empty mark on a settlement is "no mark yet", below).
    /// </summary>
    [Theory]
    [InlineData("premiumIndex", "lastFundingRate", "1.00000000", "not a rate between -1 and 1")]
    [InlineData("premiumIndex", "lastFundingRate", "-1", "not a rate between -1 and 1")]
    [InlineData("premiumIndex", "lastFundingRate", "3.5", "not a rate between -1 and 1")]
    [InlineData("fundingRate", "0.fundingRate", "1", "not a rate between -1 and 1")]
    [InlineData("fundingRate", "0.fundingRate", "-1.00000001", "not a rate between -1 and 1")]
    [InlineData("fundingInfo", "0.adjustedFundingRateCap", "1", "not a rate between -1 and 1")]
    [InlineData("fundingInfo", "0.adjustedFundingRateCap", "2.5", "not a rate between -1 and 1")]
    [InlineData("fundingInfo", "0.adjustedFundingRateFloor", "-1", "not a rate between -1 and 1")]
    [InlineData("fundingInfo", "0.adjustedFundingRateFloor", "-1.00000001", "not a rate between -1 and 1")]
    [InlineData("premiumIndex", "markPrice", "0", "not a price above 0")]
    [InlineData("premiumIndex", "markPrice", "0.00000000", "not a price above 0")]
    [InlineData("premiumIndex", "markPrice", "-11793.63104562", "not a price above 0")]
    [InlineData("fundingRate", "0.markPrice", "0", "not a price above 0")]
    [InlineData("fundingRate", "1.markPrice", "-1", "not a price above 0")]
    public void Figure_OutsideItsRange_IsAProtocolErrorNamingIt(string reader, string path, string value, string problem)
    {
        var (fixture, parse) = Readers[reader];
        var node = Fixture(fixture);
        var (parent, last) = Walk(node, path);
        parent[last] = value;

        var error = Assert.Throws<BinanceProtocolException>(() => parse(node));

        Assert.Equal(last, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A settlement listed before the venue has its mark price: no mark yet, not an error.</summary>
    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void FundingRate_MarkPriceEmpty_ReadsAsNoMarkYet(string? value)
    {
        var node = Fixture("fundingRate.json");
        node[0]!["markPrice"] = value;

        var entries = Read(node, VenueJsonContext.Default.ListFundingRateDto).Select(BinanceParse.FundingRate).ToList();

        Assert.Null(entries[0].MarkPrice);
        Assert.Equal(34287.54619963m, entries[1].MarkPrice);
    }

    [Fact]
    public void FundingInfo_FloorAboveCap_IsAProtocolErrorNamingTheFloor()
    {
        var (fixture, parse) = Readers["fundingInfo"];
        var node = Fixture(fixture);
        node[0]!["adjustedFundingRateCap"] = "-0.01000000";
        node[0]!["adjustedFundingRateFloor"] = "0.01000000";

        var error = Assert.Throws<BinanceProtocolException>(() => parse(node));

        Assert.Equal("adjustedFundingRateFloor", error.Field);
        Assert.Contains("above adjustedFundingRateCap", error.Message, StringComparison.Ordinal);
    }

    private static (JsonNode Parent, string Last) Walk(JsonNode root, string path)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = int.TryParse(part, out var index) ? node[index]! : node[part]!;
        }

        return (node, parts[^1]);
    }

    private static void Remove(JsonNode root, string path)
    {
        var (parent, last) = Walk(root, path);
        Assert.True(parent.AsObject().Remove(last), $"the fixture has no {path}");
    }

    private static void SetNull(JsonNode root, string path)
    {
        var (parent, last) = Walk(root, path);
        Assert.True(parent.AsObject().ContainsKey(last), $"the fixture has no {path}");
        parent[last] = null;
    }
}
