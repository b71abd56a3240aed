namespace TradeEngine.Domain.Tests;

public class ValueTypeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Price_NotPositive_ThrowsNamingPrice(int value)
    {
        var ex = Assert.Throws<DomainException>(() => new Price(value));
        Assert.Equal("price", ex.Field);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.001")]
    public void Quantity_NotPositive_ThrowsNamingQuantity(string value)
    {
        var ex = Assert.Throws<DomainException>(() => new Quantity(DecimalText.Parse(value, "test")));
        Assert.Equal("quantity", ex.Field);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(126)]
    [InlineData(-5)]
    public void Leverage_OutOfRange_ThrowsNamingLeverage(int value)
    {
        var ex = Assert.Throws<DomainException>(() => new Leverage(value));
        Assert.Equal("leverage", ex.Field);
        Assert.Contains("1 to 125", ex.Rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(125)]
    public void Leverage_InRange_Keeps(int value) => Assert.Equal(value, new Leverage(value).Value);

    [Theory]
    [InlineData("BTCUSDT")]
    [InlineData("1000PEPEUSDT")]
    public void Symbol_Valid_Keeps(string text) => Assert.Equal(text, new Symbol(text).Value);

    [Theory]
    [InlineData("")]
    [InlineData("btcusdt")]
    [InlineData("BTC-USDT")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTU")]
    public void Symbol_Invalid_ThrowsNamingSymbol(string text)
    {
        Assert.Equal("symbol", Assert.Throws<DomainException>(() => new Symbol(text)).Field);
        Assert.False(Symbol.TryParse(text, out _));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public void FundingRate_OutsideSanityBound_Throws(string value) =>
        Assert.Equal("fundingRate", Assert.Throws<DomainException>(() => new FundingRate(DecimalText.Parse(value, "test"))).Field);

    [Fact]
    public void Side_Undefined_ThrowsNamingSide() =>
        Assert.Equal("side", Assert.Throws<DomainException>(() => ((Side)3).Sign()).Field);

    [Fact]
    public void Side_Defined_SignIsPlusOrMinusOne()
    {
        Assert.Equal(1, Side.Long.Sign());
        Assert.Equal(-1, Side.Short.Sign());
        Assert.Equal(Side.Short, Side.Long.Opposite());
    }

    [Fact]
    public void Money_SameCurrency_Adds() =>
        Assert.Equal(new Money(-1.5m), new Money(1m) + new Money(-2.5m));

    [Fact]
    public void Money_MixedCurrencies_Throws()
    {
        var ex = Assert.Throws<DomainException>(() => new Money(1m) + new Money(1m, "USDC"));
        Assert.Equal("currency", ex.Field);
    }

    [Fact]
    public void Money_Default_IsZeroUsdt() => Assert.Equal(Money.Usdt, default(Money).Currency);

    [Fact]
    public void Price_ParseMalformed_ThrowsNamingField() =>
        Assert.Equal("markPrice", Assert.Throws<DomainException>(() => Price.Parse("1e3", "markPrice")).Field);

    [Fact]
    public void Price_ParseWellFormed_FormatsBack() => Assert.Equal("40200.1", Price.Parse("40200.10").ToString());
}
