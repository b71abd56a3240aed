namespace TradeEngine.Domain;

/// <summary>
/// A funding rate per settlement, e.g. 0.0001 (0.01 %). Sign convention: positive means longs
/// pay shorts. The bound |rate| &lt; 1 is a sanity check against unit mistakes (a percentage
/// passed as 1 = 100 %); the symbol's real cap and floor are applied by
/// <c>FundingMath.ClampRate</c>.
/// </summary>
public readonly record struct FundingRate
{
    public const decimal SanityBound = 1m;

    public FundingRate(decimal value)
    {
        if (value <= -SanityBound || value >= SanityBound)
        {
            Guard.Fail("fundingRate", "must be greater than -1 and less than 1");
        }

        Value = value;
    }

    public decimal Value { get; }

    public static FundingRate Parse(string text, string field = "fundingRate")
    {
        var value = DecimalText.Parse(text, field);
        if (value <= -SanityBound || value >= SanityBound)
        {
            Guard.Fail(field, "must be greater than -1 and less than 1");
        }

        return new FundingRate(value);
    }

    public override string ToString() => DecimalText.Format(Value);
}
