using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests.Risk;

public class KillSwitchStateTests
{
    private static readonly DateTimeOffset Noon = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Apply_DailyLossBreach_Latches()
    {
        var request = PreTradeCheckTests.Healthy() with { EquityAtStartOfDay = 2_600m, PeakEquity = 2_600m };
        var decision = PreTradeCheck.Evaluate(request, RiskLimits.Default, InstrumentCatalog.BtcUsdt.Filters);
        var state = KillSwitchState.Inactive.Apply(decision, Noon);
        Assert.True(state.Active);
        Assert.Equal(Noon, state.TriggeredAt);
        Assert.StartsWith("DailyLossLimitBreached", state.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_AllowedDecision_StaysInactive()
    {
        var decision = PreTradeCheck.Evaluate(PreTradeCheckTests.Healthy(), RiskLimits.Default, InstrumentCatalog.BtcUsdt.Filters);
        Assert.Same(KillSwitchState.Inactive, KillSwitchState.Inactive.Apply(decision, Noon));
    }

    [Fact]
    public void Trigger_AlreadyActive_KeepsFirstReason()
    {
        var first = KillSwitchState.Inactive.Trigger("drawdown", Noon);
        var second = first.Trigger("daily loss", Noon.AddHours(1));
        Assert.Same(first, second);
    }

    [Fact]
    public void Reset_WithOperatorAndReason_Clears()
    {
        var reset = KillSwitchState.Inactive.Trigger("drawdown", Noon).Reset("alice", "reviewed positions", Noon.AddHours(2));
        Assert.False(reset.Active);
        Assert.Equal("alice", reset.ResetBy);
        Assert.Equal("reviewed positions", reset.ResetReason);
    }

    [Theory]
    [InlineData("", "reason", "operator")]
    [InlineData("alice", " ", "reason")]
    public void Reset_MissingOperatorOrReason_Throws(string @operator, string reason, string field)
    {
        var active = KillSwitchState.Inactive.Trigger("drawdown", Noon);
        Assert.Equal(field, Assert.Throws<DomainException>(() => active.Reset(@operator, reason)).Field);
    }
}
