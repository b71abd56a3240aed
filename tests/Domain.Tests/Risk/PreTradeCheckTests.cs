using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Risk;

public class PreTradeCheckTests
{
    private static readonly SymbolFilters Btc = InstrumentCatalog.BtcUsdt.Filters;

    /// <summary>0.1 BTC long at 50,000 (5,000 notional), 5×, 2,000 balance, no losses: allowed.</summary>
    internal static PreTradeRequest Healthy() => new()
    {
        Symbol = new Symbol("BTCUSDT"),
        Side = Side.Long,
        Quantity = new Quantity(0.1m),
        Price = new Price(50_000m),
        Leverage = new Leverage(5),
        AvailableBalance = 2_000m,
        Balance = 2_000m,
        EquityAtStartOfDay = 2_000m,
        CurrentEquity = 2_000m,
        PeakEquity = 2_000m,
    };

    [Fact]
    public void Evaluate_HealthyOrder_Allowed()
    {
        var decision = PreTradeCheck.Evaluate(Healthy(), RiskLimits.Default, Btc);
        Assert.True(decision.Allowed);
        Assert.Empty(decision.Reasons);
        Assert.Equal(0, decision.ReasonCount);
    }

    [Fact]
    public void Evaluate_KillSwitch_Denied() =>
        AssertOnly(Healthy() with { KillSwitchActive = true }, RiskReasonCode.KillSwitchActive, 0m, 1m);

    [Fact]
    public void Evaluate_LeverageAboveMax_DeniedWithLimitAndActual() =>
        // 0.02 BTC at 50,000 = 1,000 notional; 10× needs 100 margin: only leverage breaks.
        AssertOnly(Healthy() with { Quantity = new Quantity(0.02m), Leverage = new Leverage(10) }, RiskReasonCode.LeverageOutOfRange, 5m, 10m);

    [Fact]
    public void Evaluate_NotionalAfterAddAboveLimit_Denied() =>
        // Holding 0.15 BTC, buying 0.1 more: (0.15 + 0.1) × 50,000 = 12,500 > 10,000.
        AssertOnly(Healthy() with { ExistingPositionSize = 0.15m, Balance = 5_000m }, RiskReasonCode.NotionalAboveLimit, 10_000m, 12_500m);

    [Fact]
    public void Evaluate_OrderPricedBelowTheMark_PositionValuedAtTheMark() =>
        // Holding 0.1 BTC marked at 60,000, buying 0.07 at 50,000: 0.17 × 60,000 = 10,200 > 10,000 (at the order's
        // price, 8,500 would pass).
        AssertOnly(Healthy() with { Quantity = new Quantity(0.07m), ExistingPositionSize = 0.1m, MarkPrice = 60_000m, Balance = 5_000m },
            RiskReasonCode.NotionalAboveLimit, 10_000m, 10_200m);

    [Fact]
    public void Evaluate_OrderPricedAboveTheMark_ValuedAtTheOrdersPrice()
    {
        var decision = PreTradeCheck.Evaluate(Healthy() with { ExistingPositionSize = 0.05m, MarkPrice = 40_000m }, RiskLimits.Default, Btc);
        Assert.True(decision.Allowed);
        Assert.Equal(7_500m, decision.Figures.NotionalAfter); // 0.15 × 50,000
    }

    [Fact]
    public void Evaluate_OppositeOrder_NetsAgainstPosition()
    {
        // Short 0.1 against a 0.15 long leaves 0.05 × 50,000 = 2,500.
        var decision = PreTradeCheck.Evaluate(Healthy() with { Side = Side.Short, ExistingPositionSize = 0.15m }, RiskLimits.Default, Btc);
        Assert.True(decision.Allowed);
        Assert.Equal(2_500m, decision.Figures.NotionalAfter);
    }

    [Fact]
    public void Evaluate_MarginAboveAvailable_Denied() =>
        // 5,000 / 5 = 1,000 required, 999 free.
        AssertOnly(Healthy() with { AvailableBalance = 999m }, RiskReasonCode.InsufficientMargin, 999m, 1_000m);

    [Fact]
    public void Evaluate_NotionalAboveBalanceTimesLeverage_Denied() =>
        // Holding 0.05 more: after = 7,500 > 1,200 × 5 = 6,000, while the order's own margin fits.
        AssertOnly(Healthy() with { ExistingPositionSize = 0.05m, Balance = 1_200m }, RiskReasonCode.NotionalAboveBalanceTimesLeverage, 6_000m, 7_500m);

    [Fact]
    public void Evaluate_QuantityOffStep_Denied() =>
        AssertOnly(Healthy() with { Quantity = new Quantity(0.1005m) }, RiskReasonCode.QuantityOffStep, 0.001m, 0.1005m);

    [Fact]
    public void Evaluate_NotionalBelowExchangeMinimum_Denied() =>
        // 0.001 × 50,000 = 50 < BTCUSDT's 100.
        AssertOnly(Healthy() with { Quantity = new Quantity(0.001m) }, RiskReasonCode.NotionalBelowExchangeMinimum, 100m, 50m);

    [Fact]
    public void Evaluate_DailyLossAbove500_DeniedAndLatches()
    {
        var request = Healthy() with { EquityAtStartOfDay = 2_600m, CurrentEquity = 2_000m, PeakEquity = 2_600m };
        var decision = AssertOnly(request, RiskReasonCode.DailyLossLimitBreached, 500m, 600m);
        Assert.True(decision.LatchesKillSwitch);
    }

    [Fact]
    public void Evaluate_DailyLossExactly500_Allowed() =>
        Assert.True(PreTradeCheck.Evaluate(Healthy() with { EquityAtStartOfDay = 2_500m, PeakEquity = 2_500m }, RiskLimits.Default, Btc).Allowed);

    [Fact]
    public void Evaluate_DrawdownAbove1000_Denied() =>
        AssertOnly(Healthy() with { PeakEquity = 3_100m }, RiskReasonCode.DrawdownLimitBreached, 1_000m, 1_100m);

    /// <summary>
    /// The order is a market order: its size is judged against MARKET_LOT_SIZE, as the venue judges it. Market orders
    /// from 0.002 to 0.05 (LOT_SIZE 0.001 to 1,000): 0.1 is above the market maximum,
    /// 0.001 below the market minimum. Before, both were judged against LOT_SIZE and allowed.
    /// </summary>
    [Fact]
    public void Evaluate_OutsideTheMarketLotSize_DeniedWithItsLimits()
    {
        var market = new SymbolFilters(
            tickSize: 0.10m, stepSize: 0.001m, minQty: 0.001m, maxQty: 1000m, marketMinQty: 0.002m, marketMaxQty: 0.05m, minNotional: 5m);

        var above = PreTradeCheck.Evaluate(Healthy(), RiskLimits.Default, market);
        var below = PreTradeCheck.Evaluate(Healthy() with { Quantity = new Quantity(0.001m) }, RiskLimits.Default, market);
        var within = PreTradeCheck.Evaluate(Healthy() with { Quantity = new Quantity(0.05m) }, RiskLimits.Default, market);

        Assert.Equal([new RiskReason(RiskReasonCode.QuantityAboveMaximum, 0.05m, 0.1m)], above.Reasons);
        Assert.Equal([new RiskReason(RiskReasonCode.QuantityBelowMinimum, 0.002m, 0.001m)], below.Reasons);
        Assert.True(within.Allowed);
    }

    [Fact]
    public void Evaluate_EverythingWrong_ListsEveryReason()
    {
        var request = Healthy() with
        {
            KillSwitchActive = true, Quantity = new Quantity(0.0005m), Leverage = new Leverage(20),
            ExistingPositionSize = 1m, AvailableBalance = -1m, Balance = 100m,
            EquityAtStartOfDay = 5_000m, CurrentEquity = 100m, PeakEquity = 6_000m,
        };
        var decision = PreTradeCheck.Evaluate(request, RiskLimits.Default, Btc);
        Assert.False(decision.Allowed);
        Assert.Equal(
            [
                RiskReasonCode.KillSwitchActive, RiskReasonCode.LeverageOutOfRange, RiskReasonCode.NotionalAboveLimit,
                RiskReasonCode.InsufficientMargin, RiskReasonCode.NotionalAboveBalanceTimesLeverage, RiskReasonCode.QuantityOffStep,
                RiskReasonCode.QuantityBelowMinimum, RiskReasonCode.NotionalBelowExchangeMinimum,
                RiskReasonCode.DailyLossLimitBreached, RiskReasonCode.DrawdownLimitBreached,
            ],
            decision.Reasons.Select(r => r.Code));
    }

    [Fact]
    public void Evaluate_AllowedCase_DoesNotAllocate()
    {
        var request = Healthy();
        var limits = RiskLimits.Default;
        var filters = Btc;
        PreTradeCheck.Evaluate(request, limits, filters);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var decision = PreTradeCheck.Evaluate(request, limits, filters);
        var allowed = decision.Allowed && decision.Reasons.Count == 0;
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.True(allowed);
    }

    [Fact]
    public void Evaluate_DefaultRequest_ThrowsNamingQuantity() =>
        Assert.Equal("quantity", Assert.Throws<DomainException>(() => PreTradeCheck.Evaluate(default(PreTradeRequest), RiskLimits.Default, Btc)).Field);

    [Fact]
    public void Evaluate_UndefinedSide_Throws() =>
        Assert.Equal("side", Assert.Throws<DomainException>(() => PreTradeCheck.Evaluate(Healthy() with { Side = (Side)7 }, RiskLimits.Default, Btc)).Field);

    private static RiskDecision AssertOnly(PreTradeRequest request, RiskReasonCode code, decimal limit, decimal actual)
    {
        var decision = PreTradeCheck.Evaluate(request, RiskLimits.Default, Btc);
        Assert.False(decision.Allowed);
        Assert.Equal([new RiskReason(code, limit, actual)], decision.Reasons);
        return decision;
    }
}
