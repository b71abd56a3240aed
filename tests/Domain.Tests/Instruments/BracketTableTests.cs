using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Tests.Instruments;

public class BracketTableTests
{
    private static readonly Symbol Btc = new("BTCUSDT");

    [Fact]
    public void For_ShippedSymbols_LoadsTablesWithDateAndSource()
    {
        var btc = BracketTables.For(Btc);
        var eth = BracketTables.For(new Symbol("ETHUSDT"));
        Assert.Equal(10, btc.Count);
        Assert.Equal(10, eth.Count);
        Assert.Equal(new DateOnly(2026, 11, 25), btc.TakenAt);
        Assert.Contains("leverageBracket", btc.Source, StringComparison.Ordinal);
        Assert.Equal(new LeverageBracket(1, 125, 50_000m, 0m, 0.004m, 0m), btc[0]);
        Assert.Equal(new LeverageBracket(6, 5, 5_000_000m, 2_000_000m, 0.1m, 135_365m), eth[5]);
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("50000", 1)]
    [InlineData("50000.01", 2)]
    [InlineData("250000", 2)]
    [InlineData("500000", 3)]
    [InlineData("3000001", 4)]
    public void Find_Notional_ReturnsItsBracket(string notional, int expected) =>
        Assert.Equal(expected, BracketTables.Find(Btc, DecimalText.Parse(notional, "notional")).Bracket);

    [Fact]
    public void Find_AboveLastCap_Throws() =>
        Assert.Equal("notional", Assert.Throws<DomainException>(() => BracketTables.Find(Btc, 500_000_001m)).Field);

    [Fact]
    public void TryFor_UnknownSymbol_ReturnsFalse() => Assert.False(BracketTables.TryFor(new Symbol("XRPUSDT"), out _));

    [Fact]
    public void MaintenanceMargin_AtBracketEdge_IsContinuous()
    {
        var table = BracketTables.For(Btc);
        // 50,000 × 0.004 − 0 = 200 = 50,000 × 0.005 − 50: cum makes the edge seamless.
        Assert.Equal(200m, table.MaintenanceMargin(50_000m));
        Assert.Equal(200m, table[1].MaintenanceMargin(50_000m));
        // 100,000 in bracket 2: 100,000 × 0.005 − 50 = 450.
        Assert.Equal(450m, table.MaintenanceMargin(100_000m));
    }

    [Fact]
    public void Parse_NumbersAndStrings_ReadExactly()
    {
        const string Json = """
            { "symbol": "TESTUSDT", "takenAt": "2026-11-25", "source": "unit test",
              "brackets": [
                { "bracket": 1, "initialLeverage": 20, "notionalCap": 5000, "notionalFloor": 0, "maintMarginRatio": 0.01, "cum": 0 },
                { "bracket": 2, "initialLeverage": 10, "notionalCap": "25000", "notionalFloor": "5000", "maintMarginRatio": "0.025", "cum": "75" } ] }
            """;
        var table = BracketTableJson.Parse(Json);
        Assert.Equal(0.01m, table[0].MaintMarginRatio);
        Assert.Equal(75m, table[1].Cum);
    }

    [Fact]
    public void Parse_CumBreakingContinuity_Throws()
    {
        const string Json = """
            { "symbol": "TESTUSDT", "takenAt": "2026-11-25", "source": "unit test",
              "brackets": [
                { "bracket": 1, "initialLeverage": 20, "notionalCap": "5000", "notionalFloor": "0", "maintMarginRatio": "0.01", "cum": "0" },
                { "bracket": 2, "initialLeverage": 10, "notionalCap": "25000", "notionalFloor": "5000", "maintMarginRatio": "0.025", "cum": "70" } ] }
            """;
        var ex = Assert.Throws<DomainException>(() => BracketTableJson.Parse(Json));
        Assert.Contains("75", ex.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExponentNumber_Throws()
    {
        const string Json = """
            { "symbol": "TESTUSDT", "takenAt": "2026-11-25", "source": "unit test",
              "brackets": [ { "bracket": 1, "initialLeverage": 20, "notionalCap": 5e3, "notionalFloor": 0, "maintMarginRatio": 0.01, "cum": 0 } ] }
            """;
        Assert.Equal("notionalCap", Assert.Throws<DomainException>(() => BracketTableJson.Parse(Json)).Field);
    }
}
