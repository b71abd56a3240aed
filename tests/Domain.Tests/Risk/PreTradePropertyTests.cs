using FsCheck.Fluent;
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

        // And the configured limits, each at most its hard one.
        var limits = c.Limits;
        Assert.InRange(r.Leverage.Value, 1, limits.MaxLeverage);
        Assert.True(after <= limits.MaxNotional, $"notional after {after}, limit {limits.MaxNotional}");
        Assert.True(quantity * price >= limits.MinNotional);
        Assert.True(r.EquityAtStartOfDay - r.CurrentEquity <= limits.DailyLossLimit);
        Assert.True(r.PeakEquity - r.CurrentEquity <= limits.MaxDrawdown);
    }

    /// <summary>
    /// The property above asserts only on allowed orders: the cases it is given must include many (drawn at random alone,
    /// about one in 200,000 was), and refusals for each limit it checks too.
    /// </summary>
    [Fact]
    public void PreTradeCases_AreOftenAllowed_AndRefusedForEveryRule()
    {
        var cases = Generators.PreTradeCases().Generator.Sample(4_000, 50);
        var decisions = cases.Select(c => PreTradeCheck.Evaluate(c.Request, c.Limits, c.Filters)).ToList();
        var allowed = decisions.Count(d => d.Allowed);
        // About a quarter are allowed; an eighth leaves room for the draw.
        Assert.True(allowed >= cases.Length / 8, $"only {allowed} of {cases.Length} cases allowed");
        var reasons = decisions.SelectMany(d => d.Reasons).Select(r => r.Code).ToHashSet();
        // Every limit the property recomputes is met from its far side too (the lot-size filters' own edges are
        // PreTradeCheckTests' business: drawn here, a size past the maximum never comes up).
        RiskReasonCode[] limits =
        [
            RiskReasonCode.KillSwitchActive, RiskReasonCode.LeverageOutOfRange, RiskReasonCode.NotionalAboveLimit,
            RiskReasonCode.InsufficientMargin, RiskReasonCode.NotionalAboveBalanceTimesLeverage, RiskReasonCode.QuantityOffStep,
            RiskReasonCode.NotionalBelowExchangeMinimum, RiskReasonCode.DailyLossLimitBreached, RiskReasonCode.DrawdownLimitBreached,
        ];
        foreach (var code in limits)
        {
            Assert.Contains(code, reasons);
        }

        var tightening = Generators.TighteningCases().Generator.Sample(4_000, 50);
        var allowedUnderLooser = tightening.Count(c => PreTradeCheck.Evaluate(c.Request, c.Looser, c.Filters).Allowed);
        Assert.True(allowedUnderLooser >= tightening.Length / 8, $"only {allowedUnderLooser} of {tightening.Length} allowed under the looser limits");
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
