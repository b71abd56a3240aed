using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Risk;

public class RiskLimitsTests
{
    [Fact]
    public void Default_IsTheHardLimits()
    {
        var limits = RiskLimits.Default;
        Assert.Equal(10_000m, limits.MaxNotional);
        Assert.Equal(500m, limits.DailyLossLimit);
        Assert.Equal(1_000m, limits.MaxDrawdown);
        Assert.Equal(5, limits.MaxLeverage);
        Assert.Equal(0.15m, limits.LiquidationBuffer);
        Assert.Equal(5m, limits.MinNotional);
        Assert.Equal(limits, RiskLimits.Create());
    }

    [Fact]
    public void Create_Tightened_Accepted()
    {
        var limits = RiskLimits.Create(maxNotional: 5_000m, dailyLossLimit: 200m, maxDrawdown: 400m, maxLeverage: 3, liquidationBuffer: 0.25m, minNotional: 10m);
        Assert.True(limits.IsAtLeastAsStrictAs(RiskLimits.Default));
    }

    [Theory]
    [InlineData("MaxNotional")]
    [InlineData("DailyLossLimit")]
    [InlineData("MaxDrawdown")]
    [InlineData("MaxLeverage")]
    [InlineData("LiquidationBuffer")]
    [InlineData("MinNotional")]
    public void Create_Loosened_ThrowsNamingTheLimit(string field)
    {
        var ex = Assert.Throws<DomainException>(() => field switch
        {
            "MaxNotional" => RiskLimits.Create(maxNotional: 10_000.01m),
            "DailyLossLimit" => RiskLimits.Create(dailyLossLimit: 501m),
            "MaxDrawdown" => RiskLimits.Create(maxDrawdown: 1_500m),
            "MaxLeverage" => RiskLimits.Create(maxLeverage: 6),
            "LiquidationBuffer" => RiskLimits.Create(liquidationBuffer: 0.1m),
            _ => RiskLimits.Create(minNotional: 4.99m),
        });
        Assert.Equal(field, ex.Field);
        Assert.Contains("never loosened", ex.Rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Create_NonPositiveNotional_Throws(int value) =>
        Assert.Equal("MaxNotional", Assert.Throws<DomainException>(() => RiskLimits.Create(maxNotional: value)).Field);

    [Fact]
    public void Create_LeverageZero_Throws() =>
        Assert.Equal("MaxLeverage", Assert.Throws<DomainException>(() => RiskLimits.Create(maxLeverage: 0)).Field);
}
