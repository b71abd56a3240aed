namespace TradeEngine.Domain.Funding;

/// <summary>
/// Funding payments of a perpetual.
///
/// Sign convention (the one place it is written): a positive funding rate means longs pay
/// shorts; a negative rate means shorts pay longs. A funding cost is positive when we pay and
/// negative when we receive. With a signed size (long positive, short negative) both rules
/// fall out of one product: cost = signedSize × price × rate × settlements.
///
/// Rounding: <see cref="Cost"/> is exact. Estimates shown to people round to 0.01 USDT, half
/// to even (the plan's Decimal.quantize rule). An amount posted to the ledger keeps 8 decimals,
/// half to even, matching the exchange's 8-decimal income records and NUMERIC(20, 8).
/// </summary>
public static class FundingMath
{
    public const int EstimateDecimals = 2;
    public const int PostedDecimals = 8;

    /// <summary>Exact cost of <paramref name="settlements"/> fundings; no rounding.</summary>
    public static decimal Cost(decimal signedSize, decimal price, decimal rate, int settlements = 1)
    {
        Guard.Positive(price, nameof(price));
        CheckRate(rate, nameof(rate));
        if (settlements < 0)
        {
            Guard.Fail(nameof(settlements), "must not be negative");
        }

        return signedSize * price * rate * settlements;
    }

    /// <summary><see cref="Cost"/> rounded to 0.01, half to even: 0.5 × 50,000 × 0.0001 = 2.50.</summary>
    public static decimal EstimateRounded(decimal signedSize, decimal price, decimal rate, int settlements = 1) =>
        Math.Round(Cost(signedSize, price, rate, settlements), EstimateDecimals, MidpointRounding.ToEven);

    /// <summary>
    /// Estimated cost over 24 hours at the current rate, using the symbol's own number of
    /// settlements a day (3 for 8 h, 6 for 4 h, 24 for 1 h), rounded like any estimate.
    /// </summary>
    public static decimal EstimateDaily(decimal signedSize, decimal price, decimal rate, FundingSchedule schedule) =>
        EstimateRounded(signedSize, price, rate, schedule.SettlementsPerDay);

    /// <summary>
    /// The amount posted for one settlement: signed size × mark price at the funding time ×
    /// rate, rounded to 8 decimals half to even.
    /// </summary>
    public static decimal SettlementAmount(decimal signedSize, decimal markPrice, decimal rate) =>
        PostedAmount(Cost(signedSize, markPrice, rate));

    /// <summary>Rounds an exact funding amount to the 8 decimals the ledger keeps, half to even.</summary>
    public static decimal PostedAmount(decimal exactAmount) =>
        Math.Round(exactAmount, PostedDecimals, MidpointRounding.ToEven);

    /// <summary>
    /// Bounds a rate to the symbol's cap and floor (Binance fundingInfo adjustedFundingRateCap /
    /// adjustedFundingRateFloor). A null bound is unknown and leaves that side open.
    /// </summary>
    public static decimal ClampRate(decimal rate, decimal? cap, decimal? floor)
    {
        CheckRate(rate, nameof(rate));
        if (cap is { } c && floor is { } f && f > c)
        {
            Guard.Fail("floor", "must not be above the cap");
        }

        if (cap is { } upper && rate > upper)
        {
            return upper;
        }

        return floor is { } lower && rate < lower ? lower : rate;
    }

    private static void CheckRate(decimal rate, string field)
    {
        if (rate <= -FundingRate.SanityBound || rate >= FundingRate.SanityBound)
        {
            Guard.Fail(field, "must be greater than -1 and less than 1");
        }
    }
}
