using FsCheck.Xunit;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Positions;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Positions;

public class PositionSizingTests
{
    private static readonly SymbolFilters Btc = InstrumentCatalog.BtcUsdt.Filters;

    private static SizingRequest Healthy() => new()
    {
        Side = Side.Long,
        Price = new Price(60_000m),
        Leverage = new Leverage(5),
        AvailableBalance = 5_000m,
        Balance = 5_000m,
        EquityAtStartOfDay = 5_000m,
        CurrentEquity = 5_000m,
        PeakEquity = 5_000m,
    };

    [Fact]
    public void MaxQuantity_NotionalBinds_RoundsDownToStep() =>
        // 10,000 / 60,000 = 0.16666… → 0.166 (never up to 0.167 = 10,020 notional).
        Assert.Equal(0.166m, PositionSizing.MaxQuantity(Healthy(), RiskLimits.Default, Btc));

    [Fact]
    public void MaxQuantity_ExistingPosition_LeavesOnlyTheRoom() =>
        // 0.1 held = 6,000; room 4,000 / 60,000 = 0.0666… → 0.066.
        Assert.Equal(0.066m, PositionSizing.MaxQuantity(Healthy() with { ExistingPositionSize = 0.1m }, RiskLimits.Default, Btc));

    [Fact]
    public void MaxQuantity_MarginBinds_UsesAvailableTimesLeverage() =>
        // 300 × 5 / 60,000 = 0.025.
        Assert.Equal(0.025m, PositionSizing.MaxQuantity(Healthy() with { AvailableBalance = 300m }, RiskLimits.Default, Btc));

    [Fact]
    public void MaxQuantity_KillSwitch_Zero() =>
        Assert.Equal(0m, PositionSizing.MaxQuantity(Healthy() with { KillSwitchActive = true }, RiskLimits.Default, Btc));

    [Fact]
    public void MaxQuantity_BelowExchangeMinimumNotional_Zero() =>
        // 5 × 5 / 60,000 = 0.000416… below minQty 0.001.
        Assert.Equal(0m, PositionSizing.MaxQuantity(Healthy() with { AvailableBalance = 5m }, RiskLimits.Default, Btc));

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 500)]
    public void MaxQuantity_AnyInput_AllowedByPreTradeAndMaximal(PreTradeCase c)
    {
        var r = c.Request;
        var sizing = new SizingRequest
        {
            Side = r.Side, Price = r.Price, Leverage = r.Leverage, ExistingPositionSize = r.ExistingPositionSize,
            AvailableBalance = r.AvailableBalance, Balance = r.Balance, EquityAtStartOfDay = r.EquityAtStartOfDay,
            CurrentEquity = r.CurrentEquity, PeakEquity = r.PeakEquity, KillSwitchActive = r.KillSwitchActive,
        };
        var max = PositionSizing.MaxQuantity(sizing, c.Limits, c.Filters);
        if (max == 0m)
        {
            return;
        }

        Assert.True(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(max)), c.Limits, c.Filters).Allowed, $"max {max} denied");
        Assert.False(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(max + c.Filters.StepSize)), c.Limits, c.Filters).Allowed, $"max {max} + step allowed");
    }
}
