using FsCheck.Xunit;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Risk;

public class PreTradePropertyTests
{
    /// <summary>Recomputes every hard rule independently; an allowed order must satisfy all of them.</summary>
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 1_000)]
    public void Evaluate_AnyInput_NeverAllowsBreakingAHardLimit(PreTradeCase c)
    {
        var decision = PreTradeCheck.Evaluate(c.Request, c.Limits, c.Filters);
        if (!decision.Allowed)
        {
            Assert.True(decision.ReasonCount > 0);
            return;
        }

        var r = c.Request;
        var quantity = r.Quantity.Value;
        var price = r.Price.Value;
        var after = Math.Abs(r.ExistingPositionSize + quantity * r.Side.Sign()) * Math.Max(price, r.MarkPrice);
        Assert.False(r.KillSwitchActive);
        Assert.InRange(r.Leverage.Value, 1, RiskLimits.HardMaxLeverage);
        Assert.True(after <= RiskLimits.HardMaxNotional, $"notional after {after}");
        Assert.True(quantity * price / r.Leverage.Value <= r.AvailableBalance);
        Assert.True(after <= r.Balance * r.Leverage.Value);
        Assert.Equal(0m, (quantity - c.Filters.MinQty) % c.Filters.StepSize);
        Assert.True(quantity >= c.Filters.MinQty && quantity <= c.Filters.MaxQty);
        Assert.True(quantity * price >= Math.Max(RiskLimits.HardMinNotional, c.Filters.MinNotional));
        Assert.True(r.EquityAtStartOfDay - r.CurrentEquity <= RiskLimits.HardDailyLossLimit);
        Assert.True(r.PeakEquity - r.CurrentEquity <= RiskLimits.HardMaxDrawdown);
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 1_000)]
    public void Evaluate_TighterLimits_NeverAllowMore(TighteningCase c)
    {
        Assert.True(c.Tighter.IsAtLeastAsStrictAs(c.Looser));
        var loose = PreTradeCheck.Evaluate(c.Request, c.Looser, c.Filters);
        var tight = PreTradeCheck.Evaluate(c.Request, c.Tighter, c.Filters);
        Assert.True(!tight.Allowed || loose.Allowed);
        foreach (var reason in loose.Reasons)
        {
            Assert.True(tight.Has(reason.Code), $"{reason.Code} under looser limits but not under tighter ones");
        }
    }
}
