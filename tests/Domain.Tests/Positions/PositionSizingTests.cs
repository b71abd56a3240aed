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

    [Fact]
    public void MaxQuantity_MarkAboveThePrice_PositionValuedAtTheMark()
    {
        // 10,000 / 62,500 = 0.16: the check values the position at max(price, mark). At the price, 0.166 (10,375 at the mark).
        var sizing = Healthy() with { MarkPrice = 62_500m };

        var max = PositionSizing.MaxQuantity(sizing, RiskLimits.Default, Btc);

        Assert.Equal(0.16m, max);
        Assert.True(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(max)), RiskLimits.Default, Btc).Allowed);
        Assert.False(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(max + Btc.StepSize)), RiskLimits.Default, Btc).Allowed);
    }

    [Fact]
    public void MaxQuantity_MarkBelowThePrice_ValuedAtThePrice() =>
        Assert.Equal(0.166m, PositionSizing.MaxQuantity(Healthy() with { MarkPrice = 50_000m }, RiskLimits.Default, Btc));

    [Fact]
    public void MaxQuantity_MarketLotSizeBinds_ItsMaximumNotLotSizes()
    {
        // At 50, 10,000 of notional is 200 BTC: over MARKET_LOT_SIZE's 120 (LOT_SIZE allows 1,000), which bounds a market order.
        var sizing = Healthy() with { Price = new Price(50m), AvailableBalance = 1_000_000m, Balance = 1_000_000m };

        var max = PositionSizing.MaxQuantity(sizing, RiskLimits.Default, Btc);

        Assert.Equal(Btc.MarketMaxQty, max);
        Assert.True(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(max)), RiskLimits.Default, Btc).Allowed);
    }

    [Fact]
    public void MaxQuantity_BelowMarketLotSizesMinimum_Zero()
    {
        // A symbol whose market orders start at 0.01 where LOT_SIZE starts at 0.001: room for 0.005 is no market order.
        var filters = new SymbolFilters(0.1m, 0.001m, 0.001m, 1000m, marketMinQty: 0.01m, marketMaxQty: 120m, minNotional: 5m);
        var sizing = Healthy() with { Price = new Price(1_000m), AvailableBalance = 1m };

        Assert.Equal(0m, PositionSizing.MaxQuantity(sizing, RiskLimits.Default, filters));
        Assert.False(PreTradeCheck.Evaluate(sizing.WithQuantity(new Quantity(0.005m)), RiskLimits.Default, filters).Allowed);
    }

    /// <summary>
    /// <paramref name="healthy"/>: equity with no loss or drawdown, so the size limits are what is tested (drawn at random, a
    /// case almost always breaches the loss limits and answers 0). <paramref name="cheap"/>: prices a thousandth as
    /// high (at least 0.1), where the market order's maximum quantity binds before the notional does.
    /// </summary>
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 500)]
    public void MaxQuantity_AnyInput_AllowedByPreTradeAndMaximal(PreTradeCase c, bool healthy, bool cheap)
    {
        var r = c.Request;
        var scale = cheap ? 0.001m : 1m;
        var sizing = new SizingRequest
        {
            Side = r.Side, Price = new Price(Math.Max(0.1m, Math.Round(r.Price.Value * scale, 2))), MarkPrice = Math.Round(r.MarkPrice * scale, 2),
            Leverage = r.Leverage, ExistingPositionSize = r.ExistingPositionSize,
            AvailableBalance = r.AvailableBalance, Balance = r.Balance, EquityAtStartOfDay = healthy ? r.CurrentEquity : r.EquityAtStartOfDay,
            CurrentEquity = r.CurrentEquity, PeakEquity = healthy ? r.CurrentEquity : r.PeakEquity, KillSwitchActive = r.KillSwitchActive,
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
