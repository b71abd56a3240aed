using FsCheck.Xunit;
using TradeEngine.Domain.Funding;

namespace TradeEngine.Domain.Tests.Funding;

public class FundingPropertyTests
{
    [Property(MaxTest = 500)]
    public void Cost_LongAndSameShort_SumToZero(int steps, int priceCents, int rateBasis, byte settlements)
    {
        var size = steps / 1000m;
        var price = 0.01m + Math.Abs((long)priceCents) / 100m;
        var rate = rateBasis % 30_000 / 1_000_000m;
        Assert.Equal(0m, FundingMath.Cost(size, price, rate, settlements) + FundingMath.Cost(-size, price, rate, settlements));
        Assert.Equal(0m, FundingMath.EstimateRounded(size, price, rate, settlements) + FundingMath.EstimateRounded(-size, price, rate, settlements));
        Assert.Equal(0m, FundingMath.SettlementAmount(size, price, rate) + FundingMath.SettlementAmount(-size, price, rate));
    }
}
