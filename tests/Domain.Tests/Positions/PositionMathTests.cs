using TradeEngine.Domain.Positions;

namespace TradeEngine.Domain.Tests.Positions;

public class PositionMathTests
{
    private static readonly Symbol Btc = new("BTCUSDT");

    [Fact]
    public void UnrealizedPnl_LongAndShort_SignedBySize()
    {
        Assert.Equal(100m, PositionMath.UnrealizedPnl(0.1m, 50_000m, 51_000m));
        Assert.Equal(-100m, PositionMath.UnrealizedPnl(-0.1m, 50_000m, 51_000m));
    }

    [Fact]
    public void RealizedPnl_ShortClosedLower_ProfitLessFees() =>
        // −1 × 0.2 × (48,000 − 50,000) − 3.5 = 400 − 3.5 = 396.5
        Assert.Equal(396.5m, PositionMath.RealizedPnl(Side.Short, 0.2m, 50_000m, 48_000m, 3.5m));

    [Fact]
    public void RealizedPnl_NegativeFees_Throws() =>
        Assert.Equal("fees", Assert.Throws<DomainException>(() => PositionMath.RealizedPnl(Side.Long, 1m, 1m, 1m, -1m)).Field);

    [Fact]
    public void AverageEntryAfterAdd_SameDirection_Weighted() =>
        // (0.1 × 50,000 + 0.3 × 54,000) / 0.4 = (5,000 + 16,200) / 0.4 = 53,000
        Assert.Equal(53_000m, PositionMath.AverageEntryAfterAdd(0.1m, 50_000m, 0.3m, 54_000m));

    [Fact]
    public void AverageEntryAfterAdd_OppositeDirection_Throws() =>
        Assert.Equal("addSignedSize", Assert.Throws<DomainException>(() => PositionMath.AverageEntryAfterAdd(0.1m, 50_000m, -0.1m, 54_000m)).Field);

    [Fact]
    public void Apply_Add_AveragesEntryAndChargesFee()
    {
        var outcome = new Position(Btc, 0.1m, 50_000m).Apply(Side.Long, 0.3m, 54_000m, 2m);
        Assert.Equal(new Position(Btc, 0.4m, 53_000m), outcome.After);
        Assert.Equal(-2m, outcome.RealizedPnl);
    }

    [Fact]
    public void Apply_Reduce_KeepsEntryRealizesPnl()
    {
        // Close 0.1 of 0.4 long at 55,000: 0.1 × (55,000 − 53,000) − 1 = 199
        var outcome = new Position(Btc, 0.4m, 53_000m).Apply(Side.Short, 0.1m, 55_000m, 1m);
        Assert.Equal(new Position(Btc, 0.3m, 53_000m), outcome.After);
        Assert.Equal(199m, outcome.RealizedPnl);
    }

    [Fact]
    public void Apply_Flip_ClosesAndOpensAtFillPrice()
    {
        // Sell 0.5 against 0.3 long: 0.3 closes at +600, 0.2 short opens at 55,000.
        var outcome = new Position(Btc, 0.3m, 53_000m).Apply(Side.Short, 0.5m, 55_000m, 0m);
        Assert.Equal(new Position(Btc, -0.2m, 55_000m), outcome.After);
        Assert.Equal(600m, outcome.RealizedPnl);
        Assert.Equal(0.3m, outcome.ClosedQuantity);
    }

    [Fact]
    public void Apply_ExactClose_Flat()
    {
        var outcome = new Position(Btc, -0.2m, 55_000m).Apply(Side.Long, 0.2m, 54_000m, 0m);
        Assert.True(outcome.After.IsFlat);
        Assert.Equal(200m, outcome.RealizedPnl);
    }
}
