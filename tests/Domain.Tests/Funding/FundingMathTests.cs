using TradeEngine.Domain.Funding;

namespace TradeEngine.Domain.Tests.Funding;

public class FundingMathTests
{
    private static readonly FundingSchedule EightHours = new(8);

    [Fact]
    public void EstimateRounded_PlanOneSettlement_Is2Point50()
    {
        // 0.5 × 50,000 × 0.0001 × 1 = 2.50
        var cost = FundingMath.EstimateRounded(0.5m, 50_000m, 0.0001m, 1);
        Assert.Equal(2.50m, cost);
        Assert.Equal("2.50", cost.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void EstimateRounded_PlanNegativeRate_IsMinus3()
    {
        // 1.0 × 30,000 × −0.0001 = −3.00: negative means we receive.
        Assert.Equal(-3.00m, FundingMath.EstimateRounded(1.0m, 30_000m, -0.0001m, 1));
    }

    [Fact]
    public void EstimateRounded_PlanThreeSettlements_Is1Point80()
    {
        // 0.1 × 60,000 × 0.0001 × 3 = 1.80
        Assert.Equal(1.80m, FundingMath.EstimateRounded(0.1m, 60_000m, 0.0001m, 3));
    }

    [Fact]
    public void EstimateDaily_PlanEightHourSymbol_Is15()
    {
        // 1.0 × 50,000 × 0.0001 × 3 settlements a day = 15.00
        Assert.Equal(15.00m, FundingMath.EstimateDaily(1.0m, 50_000m, 0.0001m, EightHours));
    }

    [Theory]
    [InlineData(4, "30")]
    [InlineData(1, "120")]
    public void EstimateDaily_ShorterInterval_UsesSymbolsSettlements(int hours, string expected) =>
        Assert.Equal(DecimalText.Parse(expected, "expected"), FundingMath.EstimateDaily(1.0m, 50_000m, 0.0001m, new FundingSchedule(hours)));

    [Fact]
    public void Cost_ShortWithPositiveRate_IsNegativeBecauseShortsReceive() =>
        Assert.Equal(-2.5m, FundingMath.Cost(-0.5m, 50_000m, 0.0001m));

    [Fact]
    public void Cost_NotRounded_KeepsEveryDigit() =>
        Assert.Equal(0.0000123456789m, FundingMath.Cost(0.001m, 123.456789m, 0.0001m));

    [Theory]
    [InlineData("250", "0.02")] // 0.025 → 0.02 (half to even; away from zero would give 0.03)
    [InlineData("150", "0.02")] // 0.015 → 0.02
    [InlineData("350", "0.04")] // 0.035 → 0.04
    public void EstimateRounded_Midpoint_RoundsHalfToEven(string price, string expected) =>
        Assert.Equal(DecimalText.Parse(expected, "e"), FundingMath.EstimateRounded(1m, DecimalText.Parse(price, "p"), 0.0001m, 1));

    [Fact]
    public void PostedAmount_NineDecimals_RoundsToEightHalfEven()
    {
        Assert.Equal(0.12345678m, FundingMath.PostedAmount(0.123456785m));
        Assert.Equal(0.12345680m, FundingMath.PostedAmount(0.123456795m));
    }

    [Fact]
    public void SettlementAmount_UsesMarkPriceAndEightDecimals() =>
        // 0.123 × 43,210.55 × 0.00012345 = 0.6561241148925 → 0.65612411 (8 dp). Before, the expected figure was computed
        // by the formula under test (and its comment gave a wrong product), so no rounding rule could fail it.
        Assert.Equal(0.65612411m, FundingMath.SettlementAmount(0.123m, 43_210.55m, 0.00012345m));

    [Theory]
    // At the midpoint of the 8th decimal: half to even, both ways and both signs.
    [InlineData("1", "1", "0.000000125", "0.00000012")]
    [InlineData("1", "1", "0.000000135", "0.00000014")]
    [InlineData("-1", "1", "0.000000125", "-0.00000012")]
    [InlineData("-1", "1", "0.000000135", "-0.00000014")]
    // A short with a positive rate receives (negative: the account is paid).
    [InlineData("-0.5", "60000", "0.0001", "-3.0")]
    public void SettlementAmount_RoundsHalfToEvenAtTheEighthDecimal(string size, string mark, string rate, string expected) =>
        Assert.Equal(
            decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            FundingMath.SettlementAmount(
                decimal.Parse(size, System.Globalization.CultureInfo.InvariantCulture),
                decimal.Parse(mark, System.Globalization.CultureInfo.InvariantCulture),
                decimal.Parse(rate, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("0.05", "0.03")]
    [InlineData("-0.05", "-0.03")]
    [InlineData("0.0001", "0.0001")]
    public void ClampRate_OutsideCapAndFloor_Clamps(string rate, string expected) =>
        Assert.Equal(DecimalText.Parse(expected, "e"), FundingMath.ClampRate(DecimalText.Parse(rate, "r"), 0.03m, -0.03m));

    [Fact]
    public void ClampRate_UnknownBounds_LeavesRate() => Assert.Equal(0.05m, FundingMath.ClampRate(0.05m, null, null));

    [Fact]
    public void ClampRate_FloorAboveCap_Throws() =>
        Assert.Equal("floor", Assert.Throws<DomainException>(() => FundingMath.ClampRate(0m, 0.01m, 0.02m)).Field);

    [Fact]
    public void Cost_ZeroPrice_ThrowsNamingPrice() =>
        Assert.Equal("price", Assert.Throws<DomainException>(() => FundingMath.Cost(1m, 0m, 0.0001m)).Field);

    [Fact]
    public void Cost_NegativeSettlements_Throws() =>
        Assert.Equal("settlements", Assert.Throws<DomainException>(() => FundingMath.Cost(1m, 1m, 0.0001m, -1)).Field);
}
