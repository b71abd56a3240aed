using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Risk;

public class EquityMathTests
{
    [Fact]
    public void CurrentEquity_IncludesRealizedUnrealizedFundingAndFees() =>
        // 10,000 + 120 realized − 15 funding paid − 4 fees − 350 unrealized = 9,751
        Assert.Equal(9_751m, EquityMath.CurrentEquity(10_000m, 120m, 15m, 4m, -350m));

    [Fact]
    public void DailyLoss_StartMinusCurrent() => Assert.Equal(249m, EquityMath.DailyLoss(10_000m, 9_751m));

    [Fact]
    public void Drawdown_NewHigh_IsZero() => Assert.Equal(0m, EquityMath.Drawdown(10_000m, 10_500m));

    [Fact]
    public void StartOfUtcDay_OffsetInstant_IsMidnightUtc() =>
        Assert.Equal(
            new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            EquityMath.StartOfUtcDay(new DateTimeOffset(2026, 1, 2, 1, 0, 0, TimeSpan.FromHours(3))));
}
