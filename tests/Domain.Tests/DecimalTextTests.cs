namespace TradeEngine.Domain.Tests;

public class DecimalTextTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("-3", "-3")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("40200.00", "40200")]
    [InlineData("0.00010000", "0.0001")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("007", "7")]
    [InlineData("1234567890123456789012345678", "1234567890123456789012345678")]
    [InlineData("0.0000000000000000000000000001", "0.0000000000000000000000000001")]
    public void TryParse_WellFormed_ParsesExactly(string text, string expected)
    {
        Assert.True(DecimalText.TryParse(text, out var value, out var error));
        Assert.Null(error);
        Assert.Equal(expected, DecimalText.Format(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1e5")]
    [InlineData("1E5")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1,5")]
    [InlineData("1,000")]
    [InlineData("+1")]
    [InlineData("0x1A")]
    [InlineData("1A")]
    [InlineData("--1")]
    [InlineData("-")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("1.2.3")]
    [InlineData("١")]
    [InlineData("12345678901234567890123456789")]
    [InlineData("1.0000000000000000000000000000")]
    [InlineData("0.00000000000000000000000000001")]
    [InlineData("79228162514264337593543950336")]
    public void TryParse_Malformed_Rejects(string? text)
    {
        Assert.False(DecimalText.TryParse(text, out var value, out var error));
        Assert.Equal(0m, value);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Parse_Malformed_ThrowsNamingField()
    {
        var ex = Assert.Throws<DomainException>(() => DecimalText.Parse("1e5", "price"));
        Assert.Equal("price", ex.Field);
        Assert.Contains("price", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.Rule, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-12.3400")]
    [InlineData("0.00000001")]
    [InlineData("9999999999999999999999999999")]
    public void TryParse_Accepted_SameValueAsDecimalParse(string text)
    {
        const System.Globalization.NumberStyles Styles = System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint;
        Assert.True(DecimalText.TryParse(text, out var ours, out _));
        var theirs = decimal.Parse(text, Styles, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(theirs, ours);
        Assert.Equal(theirs.Scale, ours.Scale);
    }

    [Theory]
    [InlineData("0.0001", "0.0001")]
    [InlineData("40200.00", "40200")]
    [InlineData("-3.000", "-3")]
    [InlineData("1000000", "1000000")]
    public void Format_Value_InvariantWithoutTrailingZerosOrExponent(string input, string expected)
    {
        Assert.Equal(expected, DecimalText.Format(decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
