using TradeEngine.Common.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

public sealed class WireTests
{
    [Theory]
    [InlineData("1e5")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1,5")]
    [InlineData("1.000.0")]
    [InlineData(" 1")]
    [InlineData("+1")]
    [InlineData("0x10")]
    [InlineData("12345678901234567890123456789")] // 29 significant digits
    public void Decimal_MalformedText_ThrowsNamingField(string text)
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Decimal(text, "order.quantity"));

        Assert.Equal("order.quantity", Assert.Single(ex.Violations).Field);
    }

    [Fact]
    public void Decimal_Empty_ThrowsRequired()
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Decimal("", "price"));

        Assert.Equal(new FieldViolation("price", "is required"), Assert.Single(ex.Violations));
    }

    [Theory]
    [InlineData("0.00000001", "0.00000001")]
    [InlineData("12345678901.12345678", "12345678901.12345678")]
    [InlineData("-3", "-3")]
    public void Decimal_ValidText_RoundTripsExactly(string text, string expected)
    {
        Assert.Equal(expected, Wire.Format(Wire.Decimal(text, "amount")));
    }

    [Fact]
    public void Positive_Zero_Throws()
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Positive("0", "quantity"));

        Assert.Equal("must be greater than zero", Assert.Single(ex.Violations).Description);
    }

    [Fact]
    public void Enum_Unspecified_ThrowsNamingField()
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Enum(Side.Unspecified, "side"));

        Assert.Equal(new FieldViolation("side", "must be specified"), Assert.Single(ex.Violations));
    }

    [Fact]
    public void Enum_UnknownValue_Throws()
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Enum((Side)42, "side"));

        Assert.Equal("is not a known value", Assert.Single(ex.Violations).Description);
    }

    [Theory]
    [InlineData(1_700_000_000L, -5)]
    [InlineData(1_700_000_000L, 1_000_000_000)]
    [InlineData(1L, 0)]
    [InlineData(253_402_300_799L, 0)]
    public void Instant_MalformedOrAbsurdTimestamp_ThrowsNamingField(long seconds, int nanos)
    {
        var ex = Assert.Throws<RequestValidationException>(() =>
            Wire.Instant(new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = seconds, Nanos = nanos }, "executed_at"));

        Assert.Equal("executed_at", Assert.Single(ex.Violations).Field);
    }

    [Fact]
    public void Instant_ValidTimestamp_Converts()
    {
        var instant = Wire.Instant(new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_700_000_000L, Nanos = 5 }, "at");

        Assert.Equal(1_700_000_000L, instant.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("BTC\0USDT")]
    [InlineData("BTC\nUSDT")]
    public void Required_ControlCharacter_Throws(string text)
    {
        var ex = Assert.Throws<RequestValidationException>(() => Wire.Required(text, "symbol"));

        Assert.Equal("must not contain control characters", Assert.Single(ex.Violations).Description);
    }

    [Fact]
    public void Cut_LongerThanTheLimit_LimitLongEndingInAnEllipsisNeverInsideASurrogatePair()
    {
        var plain = Wire.Cut(new string('a', 20), 10);
        // "😀" is a surrogate pair: placed so the plain cut (9 characters) would split it, it goes whole; one place
        // earlier, it fits whole.
        var split = Wire.Cut(new string('a', 8) + "😀" + new string('b', 10), 10);
        var fits = Wire.Cut(new string('a', 7) + "😀" + new string('b', 10), 10);

        Assert.Equal(new string('a', 9) + "…", plain);
        Assert.Equal(new string('a', 8) + "…", split);
        Assert.Equal(new string('a', 7) + "😀…", fits);
        Assert.Equal("short", Wire.Cut("short", 10));
        Assert.Equal(new string('c', 10), Wire.Cut(new string('c', 10), 10));
    }

    [Theory]
    [InlineData("0.12345678", true)]
    [InlineData("0.123456789", false)]
    [InlineData("-12345678901.12345678", true)]
    [InlineData("1.100000000", true)] // trailing zeros are not places that matter
    public void AtMostPlaces_EightPlaces_AcceptedANinthRefusedNamingTheField(string text, bool accepted)
    {
        var value = Wire.Decimal(text, "amount");

        if (accepted)
        {
            Assert.Equal(value, Wire.AtMostPlaces(value, 8, "amount"));
        }
        else
        {
            var ex = Assert.Throws<RequestValidationException>(() => Wire.AtMostPlaces(value, 8, "amount"));
            Assert.Equal(new FieldViolation("amount", "has more than 8 decimal places"), Assert.Single(ex.Violations));
        }
    }
}
