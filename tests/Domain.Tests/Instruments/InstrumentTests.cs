using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Tests.Instruments;

public class InstrumentTests
{
    private static readonly SymbolFilters Btc = InstrumentCatalog.BtcUsdt.Filters;

    [Fact]
    public void ValidateQuantity_OnStepAboveMinimums_IsValid() =>
        Assert.True(Btc.ValidateQuantity(0.002m, 50_000m).IsValid);

    [Fact]
    public void ValidateQuantity_OffStep_ReportsOffStep()
    {
        var check = Btc.ValidateQuantity(0.0015m, 100_000m);
        Assert.True(check.Has(FilterViolation.QuantityOffStep));
        Assert.False(check.Has(FilterViolation.QuantityBelowMinimum));
    }

    [Fact]
    public void ValidateQuantity_TinyOrder_ReportsEveryViolation()
    {
        // 0.0005 BTC at 50,000 = 25 USDT: off the 0.001 step, below minQty 0.001 and below notional 100.
        var check = Btc.ValidateQuantity(0.0005m, 50_000m);
        Assert.Equal(
            FilterViolation.QuantityOffStep | FilterViolation.QuantityBelowMinimum | FilterViolation.NotionalBelowMinimum,
            check.Violations);
    }

    [Fact]
    public void ValidateQuantity_MarketAboveMarketMax_ReportsAboveMaximum()
    {
        Assert.True(Btc.ValidateQuantity(121m, 50_000m, isMarket: true).Has(FilterViolation.QuantityAboveMaximum));
        Assert.True(Btc.ValidateQuantity(121m, 50_000m).IsValid);
    }

    [Fact]
    public void ValidateQuantity_NotPositive_ReportsNotPositive() =>
        Assert.Equal(FilterViolation.NotPositive, Btc.ValidateQuantity(0m, 50_000m).Violations);

    [Theory]
    [InlineData("50000.1", true)]
    [InlineData("50000.15", false)]
    public void ValidatePrice_Tick_ChecksTickSize(string price, bool valid) =>
        Assert.Equal(valid, Btc.ValidatePrice(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)).IsValid);

    [Fact]
    public void FloorToStep_OffStep_RoundsDown() => Assert.Equal(0.123m, Btc.FloorToStep(0.1239m));

    /// <summary>
    /// On the lot grid (minQty + k × step), as the venue's step rule: with a minQty off the step's multiples, half of
    /// 0.0035 is 0.0015, not 0.001 (which the rule refuses). Below minQty, the grid's point under it, or 0.
    /// </summary>
    [Theory]
    [InlineData("0.00175", "0.0015")]
    [InlineData("0.0035", "0.0035")]
    [InlineData("0.0034", "0.0025")]
    [InlineData("0.0015", "0.0015")]
    [InlineData("0.0012", "0.0005")]
    [InlineData("0.0004", "0")]
    public void FloorToStep_MinQtyOffTheStepsMultiples_OnTheLotGrid(string quantity, string expected)
    {
        var filters = new SymbolFilters(0.1m, 0.001m, 0.0015m, 1000m, marketMinQty: 0.0015m, marketMaxQty: 120m);

        var floored = filters.FloorToStep(decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), floored);
        if (floored >= filters.MinQty)
        {
            Assert.False(filters.ValidateQuantity(floored, 60_000m).Violations.HasFlag(FilterViolation.QuantityOffStep));
        }
    }

    [Fact]
    public void SymbolFilters_ZeroStep_Throws() =>
        Assert.Equal("stepSize", Assert.Throws<DomainException>(() => new SymbolFilters(0.1m, 0m, 0.001m, 1m, 0.001m, 1m)).Field);

    [Fact]
    public void Catalog_ShipsBtcAndEthWithBinanceFilters()
    {
        Assert.Equal(0.10m, InstrumentCatalog.BtcUsdt.Filters.TickSize);
        Assert.Equal(100m, InstrumentCatalog.BtcUsdt.Filters.MinNotional);
        Assert.Equal(0.01m, InstrumentCatalog.EthUsdt.Filters.TickSize);
        Assert.Equal(20m, InstrumentCatalog.EthUsdt.Filters.MinNotional);
        Assert.Equal(125, InstrumentCatalog.BtcUsdt.MaxLeverage);
        Assert.Equal(8, InstrumentCatalog.EthUsdt.Funding.IntervalHours);
    }

    [Fact]
    public void Catalog_UnknownSymbol_Throws() =>
        Assert.Equal("symbol", Assert.Throws<DomainException>(() => InstrumentCatalog.Get(new Symbol("DOGEUSDT"))).Field);
}
