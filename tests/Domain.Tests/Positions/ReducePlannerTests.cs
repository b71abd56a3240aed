using TradeEngine.Domain.Positions;

namespace TradeEngine.Domain.Tests.Positions;

public class ReducePlannerTests
{
    [Fact]
    public void TryChooseReduceByHalf_LargestByMarkNotional_HalvesIt()
    {
        // BTC 0.1 × 60,000 = 6,000; ETH −3 × 2,500 = 7,500 (largest, though smaller at entry).
        MarkedPosition[] positions =
        [
            new(new Symbol("BTCUSDT"), 0.1m, 60_000m, 0.001m),
            new(new Symbol("ETHUSDT"), -3m, 2_500m, 0.001m),
        ];
        Assert.True(ReducePlanner.TryChooseReduceByHalf(positions, out var order));
        Assert.Equal(new ReduceOrder(1, new Symbol("ETHUSDT"), Side.Long, 1.5m, 3_750m), order);
    }

    [Fact]
    public void TryChooseReduceByHalf_OddSteps_RoundsHalfDownToStep()
    {
        MarkedPosition[] positions = [new(new Symbol("BTCUSDT"), 0.003m, 60_000m, 0.001m)];
        Assert.True(ReducePlanner.TryChooseReduceByHalf(positions, out var order));
        Assert.Equal(0.001m, order.Quantity);
        Assert.Equal(Side.Short, order.CloseSide);
    }

    [Fact]
    public void TryChooseReduceByHalf_OneStep_ClosesWhole()
    {
        MarkedPosition[] positions = [new(new Symbol("BTCUSDT"), 0.001m, 60_000m, 0.001m)];
        Assert.True(ReducePlanner.TryChooseReduceByHalf(positions, out var order));
        Assert.Equal(0.001m, order.Quantity);
    }

    /// <summary>
    /// On the lot grid (minQty + k × step) where minQty is not a multiple of the step: half of 0.0035 is 0.0015, not
    /// 0.001 (off the grid: the venue and Execution's reduce refuse it, so the margin call reduced nothing); half of
    /// 0.0025 is below minQty, so the whole position is closed. With minQty equal to the step nothing changes.
    /// </summary>
    [Theory]
    [InlineData("0.0035", "0.0015", "0.0015")]
    [InlineData("0.0025", "0.0015", "0.0025")]
    [InlineData("0.0045", "0.0015", "0.0015")]
    [InlineData("0.003", "0.001", "0.001")]
    [InlineData("0.003", "0", "0.001")]
    public void TryChooseReduceByHalf_MinQtyOffTheStepsMultiples_HalfOnTheLotGrid(string size, string minQty, string expected)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        MarkedPosition[] positions = [new(new Symbol("BTCUSDT"), decimal.Parse(size, inv), 60_000m, 0.001m, decimal.Parse(minQty, inv))];

        Assert.True(ReducePlanner.TryChooseReduceByHalf(positions, out var order));

        Assert.Equal(decimal.Parse(expected, inv), order.Quantity);
    }

    [Fact]
    public void TryChooseReduceByHalf_Tie_PicksSymbolInOrdinalOrder()
    {
        MarkedPosition[] positions =
        [
            new(new Symbol("ETHUSDT"), 2m, 3_000m, 0.001m),
            new(new Symbol("BTCUSDT"), 0.1m, 60_000m, 0.001m),
        ];
        Assert.True(ReducePlanner.TryChooseReduceByHalf(positions, out var order));
        Assert.Equal("BTCUSDT", order.Symbol.Value);
    }

    [Fact]
    public void TryChooseReduceByHalf_NothingOpen_ReturnsFalse() =>
        Assert.False(ReducePlanner.TryChooseReduceByHalf([new(new Symbol("BTCUSDT"), 0m, 60_000m, 0.001m)], out _));
}
