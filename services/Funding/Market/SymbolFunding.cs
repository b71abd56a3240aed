using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Funding.Market;

/// <summary>A symbol's funding terms: its interval, and its rate cap and floor when the venue publishes them.</summary>
public readonly record struct FundingTerms(int IntervalHours, decimal? Cap, decimal? Floor)
{
    /// <summary>Binance's default for a symbol absent from fundingInfo: every 8 hours, cap and floor unknown.</summary>
    public static FundingTerms Default { get; } = new(8, null, null);

    /// <summary>The terms of a venue instrument (its catalog already applies the 8 h default).</summary>
    public static FundingTerms Of(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return new FundingTerms(instrument.Funding.IntervalHours, instrument.FundingRateCap, instrument.FundingRateFloor);
    }

    public FundingSchedule Schedule => new(IntervalHours);
}

/// <summary>The current funding state of a symbol as the venue reports it.</summary>
public sealed record SymbolFunding(
    Symbol Symbol,
    decimal FundingRate,
    decimal MarkPrice,
    decimal IndexPrice,
    DateTimeOffset NextFundingTime,
    FundingTerms Terms,
    DateTimeOffset AsOf)
{
    /// <summary>The rate bounded by the symbol's cap and floor (Domain's clamp); the published rate when they are unknown.</summary>
    public decimal ClampedRate => FundingMath.ClampRate(FundingRate, Terms.Cap, Terms.Floor);
}
