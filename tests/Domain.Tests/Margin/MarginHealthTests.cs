using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;

namespace TradeEngine.Domain.Tests.Margin;

public class MarginHealthTests
{
    [Fact]
    public void Evaluate_NoPositions_OkWithoutRatio() =>
        Assert.Equal(new MarginHealthResult(MarginAction.Ok, null), MarginHealth.Evaluate(1_000m, 0m, 0m));

    [Fact]
    public void Evaluate_RatioBelowOne_LiquidateAll()
    {
        // (1,000 − 200) / 1,000 = 0.8
        var result = MarginHealth.Evaluate(1_000m, -200m, 1_000m);
        Assert.Equal(MarginAction.LiquidateAll, result.Action);
        Assert.Equal(0.8m, result.Ratio);
    }

    [Fact]
    public void Evaluate_RatioExactlyOne_LiquidateAllAsTheExchangeDoes() =>
        Assert.Equal(MarginAction.LiquidateAll, MarginHealth.Evaluate(1_000m, 0m, 1_000m).Action);

    [Fact]
    public void Evaluate_RatioInsideBuffer_Reduce()
    {
        // 1,100 / 1,000 = 1.1 < 1.15
        var result = MarginHealth.Evaluate(1_000m, 100m, 1_000m);
        Assert.Equal(MarginAction.Reduce, result.Action);
        Assert.Equal(1.1m, result.Ratio);
    }

    [Fact]
    public void Evaluate_RatioAtOnePlusBuffer_Ok() =>
        Assert.Equal(MarginAction.Ok, MarginHealth.Evaluate(1_150m, 0m, 1_000m).Action);

    [Fact]
    public void Evaluate_WiderBuffer_ReducesEarlier() =>
        Assert.Equal(MarginAction.Reduce, MarginHealth.Evaluate(1_150m, 0m, 1_000m, buffer: 0.2m).Action);

    [Fact]
    public void Evaluate_NegativeMaintenance_Throws() =>
        Assert.Equal("maintenanceMargin", Assert.Throws<DomainException>(() => MarginHealth.Evaluate(1m, 0m, -1m)).Field);

    /// <summary>A ratio past decimal's range is bad input naming the field, not an OverflowException (INTERNAL over gRPC).</summary>
    [Fact]
    public void Evaluate_MaintenanceTooSmallForARatio_ThrowsNamingMaintenance() =>
        Assert.Equal("maintenanceMargin", Assert.Throws<DomainException>(() => MarginHealth.Evaluate(1_000m, 0m, 0.000000000000000000000000001m)).Field);

    [Fact]
    public void ExchangeMarginRatio_MarginBalanceTooSmallForARatio_UnboundedLikeNone() =>
        Assert.Null(MarginMath.ExchangeMarginRatio(1_000_000m, 0.000000000000000000000000001m));

    [Fact]
    public void ExchangeMarginRatio_IsMaintenanceOverMarginBalance()
    {
        // Binance's figure: 250 / 1,000 = 25 %; the plan's health ratio is the inverse, 4.
        Assert.Equal(0.25m, MarginMath.ExchangeMarginRatio(250m, 1_000m));
        Assert.Equal(4m, MarginHealth.Evaluate(1_000m, 0m, 250m).Ratio);
        Assert.Null(MarginMath.ExchangeMarginRatio(250m, 0m));
    }

    [Fact]
    public void InitialMargin_NotionalOverLeverage() => Assert.Equal(1_000m, MarginMath.InitialMargin(5_000m, 5));

    [Fact]
    public void InitialMargin_Leverage126_Throws() =>
        Assert.Equal("leverage", Assert.Throws<DomainException>(() => MarginMath.InitialMargin(5_000m, 126)).Field);

    [Fact]
    public void MaintenanceMargin_Bracket3_NotionalTimesRateMinusCum() =>
        // 1,000,000 × 0.01 − 1,300 = 8,700
        Assert.Equal(8_700m, MarginMath.MaintenanceMargin(1_000_000m, InstrumentCatalog.BtcUsdt.Brackets));
}
