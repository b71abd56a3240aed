using FsCheck.Xunit;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Positions;

namespace TradeEngine.Domain.Tests.Margin;

public class LiquidationPropertyTests
{
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 500)]
    public void Exchange_HealthyPosition_LongBelowEntryShortAboveEntry(LiquidationCase c)
    {
        var result = LiquidationPrice.Exchange(c.Input);
        if (c.Input.Side == Side.Long)
        {
            Assert.True(result.Outcome == LiquidationOutcome.Never || result.Price < c.Input.EntryPrice, c.ToString());
        }
        else
        {
            Assert.Equal(LiquidationOutcome.AtPrice, result.Outcome);
            Assert.True(result.Price > c.Input.EntryPrice, c.ToString());
        }
    }

    /// <summary>
    /// The precise claim: take the liquidation price onto the instrument's tick grid on the
    /// losing side (long: down, short: up), the first tradable mark at which the exchange has
    /// liquidated. There, with margin balance = wallet + this position's PnL + UPNL1 and
    /// maintenance = this position's bracket maintenance + TMM1, the health check says
    /// LiquidateAll. It holds because margin balance − maintenance is exactly 0 at the exact
    /// liquidation price and moves against us past it, and because LiquidateAll includes a ratio
    /// of exactly 1 (the exchange's own trigger). Every figure at a tick price is exact.
    /// </summary>
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 500)]
    public void Exchange_AtLiquidationPriceOnTick_HealthSaysLiquidateAll(LiquidationCase c)
    {
        var result = LiquidationPrice.Exchange(c.Input);
        if (!result.HasPrice)
        {
            return;
        }

        var input = c.Input;
        var tick = c.TickSize;
        var price = input.Side == Side.Long
            ? Math.Floor(result.Price / tick) * tick
            : Math.Ceiling(result.Price / tick) * tick;
        if (price <= 0m)
        {
            return;
        }

        var signed = input.Side.Sign() * input.Quantity;
        var unrealized = PositionMath.UnrealizedPnl(signed, input.EntryPrice, price) + input.OtherUnrealizedPnl;
        var maintenance = MarginMath.MaintenanceMargin(input.Quantity * price, input.Brackets) + input.OtherMaintenanceMargin;
        var health = MarginHealth.Evaluate(input.WalletBalance, unrealized, maintenance);
        Assert.True(health.Action == MarginAction.LiquidateAll, $"{c} LP {result.Price} at {price}: {health}");
    }

    /// <summary>
    /// Each bracket's line notional × mmr − cum lies under the true (convex) maintenance curve, so
    /// the true price is the highest of the per-bracket prices for a long and the lowest for a
    /// short. The bracket walk must land on exactly that one.
    /// </summary>
    [Property(Arbitrary = [typeof(Generators)], MaxTest = 300)]
    public void Exchange_BracketWalk_EqualsExtremeOverAllBrackets(LiquidationCase c)
    {
        var input = c.Input;
        var sign = input.Side.Sign();
        var best = sign > 0 ? decimal.MinValue : decimal.MaxValue;
        foreach (var bracket in input.Brackets.Brackets)
        {
            var p = (input.WalletBalance - input.OtherMaintenanceMargin + input.OtherUnrealizedPnl + bracket.Cum - sign * input.Quantity * input.EntryPrice)
                / (input.Quantity * bracket.MaintMarginRatio - sign * input.Quantity);
            best = sign > 0 ? Math.Max(best, p) : Math.Min(best, p);
        }

        var result = LiquidationPrice.Exchange(input);
        var walked = result.HasPrice ? result.Price : best;
        Assert.True(Math.Abs(walked - best) <= 0.000000001m, $"{c}: walk {walked}, extreme {best}");
    }

    [Property(Arbitrary = [typeof(Generators)], MaxTest = 200)]
    public void Exchange_AnyInput_DoesNotAllocate(LiquidationCase c)
    {
        var input = c.Input;
        LiquidationPrice.Exchange(input);
        var before = GC.GetAllocatedBytesForCurrentThread();
        LiquidationPrice.Exchange(input);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Exchange_BtcTable_UsesShippedBrackets() => Assert.Same(BracketTables.For(new Symbol("BTCUSDT")), InstrumentCatalog.BtcUsdt.Brackets);
}
